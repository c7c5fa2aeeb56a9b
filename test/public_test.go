package test

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// TestPublicIndex: a published file is listed and read from another
// account, plain UnixFS; unpublish takes a name out; a re-share keeps the
// file readable after its first publisher is gone.
func TestPublicIndex(t *testing.T) {
	lan := lantest.New(t, 3)
	var ps []*lantest.Peer
	for i := range 3 {
		ps = append(ps, lantest.NewPeer(t, lan.Hosts[i], lantest.PeerOptions{MDNS: true}))
	}
	a, b, c := ps[0], ps[1], ps[2]
	for _, p := range ps {
		p.Start()
	}
	a.MustRun("peers", "--wait", "2", "--timeout", "60s")
	ida, idb := accountOf(t, a), accountOf(t, b)
	dir := t.TempDir()
	f, sum := writeNamed(t, dir, "flyer.pdf", 600<<10)
	g, _ := writeNamed(t, dir, "draft.txt", 100)
	a.MustRun("add", f, g)
	if _, err := a.Run("publish", "/flyer.pdf"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("publish without --yes off a terminal: %v", err)
	}
	out := a.MustRun("publish", "/flyer.pdf", "--yes")
	if !strings.Contains(out, "/ipns/"+ida+"/public/flyer.pdf") {
		t.Fatalf("publish printed %q; want the IPFS path", out)
	}
	a.MustRun("publish", "/draft.txt", "--as", "notes.txt", "--yes")
	a.MustRun("unpublish", "notes.txt")

	waitFor(t, time.Minute, "another account lists the published file", func() bool {
		out, err := b.Run("ls", ida+":/")
		return err == nil && strings.Contains(out, "flyer.pdf") && !strings.Contains(out, "notes.txt")
	})
	got, err := b.Run("cat", ida+":/flyer.pdf")
	if err != nil || sha256.Sum256([]byte(got)) != sum {
		t.Fatalf("cat of the published file: %v", err)
	}
	if _, err := b.Run("cat", ida+":/notes.txt"); err == nil || !strings.Contains(err.Error(), "not in the account's public index") {
		t.Fatalf("cat of an unpublished name: %v", err)
	}

	// B re-shares it; A goes away; C reads it from B's index.
	b.MustRun("publish", ida+":/flyer.pdf")
	a.Stop()
	waitFor(t, time.Minute, "the re-shared file is read with its first publisher gone", func() bool {
		got, err := c.Run("cat", idb+":/flyer.pdf")
		return err == nil && sha256.Sum256([]byte(got)) == sum
	})
}
