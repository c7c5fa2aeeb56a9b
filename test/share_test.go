package test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// catSum reads a link on p and returns the SHA-256 of what it opened.
func catSum(p *lantest.Peer, link, stdin string) ([32]byte, error) {
	out, err := p.RunInput(stdin, "cat", link)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256([]byte(out)), nil
}

// writeNamed writes n random bytes to dir/name and returns the path and
// the bytes' SHA-256.
func writeNamed(t *testing.T, dir, name string, n int) (string, [32]byte) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, sha256.Sum256(b)
}

// TestShareLinks: links made on one account open on a node of another
// account and on a fresh node, over the LAN the nodes found by mDNS; bad
// links and passwords give clear errors; a following link sees the
// newest version, also one the account's second device wrote, and after
// unshare sees nothing newer.
func TestShareLinks(t *testing.T) {
	lan := lantest.New(t, 4)
	a1, a2 := devicePair(t, lan) // two devices of account A
	b := lantest.NewPeer(t, lan.Hosts[2], lantest.PeerOptions{MDNS: true})
	c := lantest.NewPeer(t, lan.Hosts[3], lantest.PeerOptions{MDNS: true})
	b.Start()
	c.Start()
	a1.MustRun("peers", "--wait", "3", "--timeout", "60s")

	dir := t.TempDir()
	f1, sum1 := writeNamed(t, dir, "doc.bin", 1<<20)
	a1.MustRun("add", f1)

	// A link to one version.
	l1 := lastLine(a1.MustRun("share", "/doc.bin"))
	if !strings.HasPrefix(l1, "peer://s/") || !strings.Contains(l1, "#k.") {
		t.Fatalf("link %q is not of the documented form", l1)
	}
	for _, p := range []*lantest.Peer{b, c} {
		got, err := catSum(p, l1, "")
		if err != nil || got != sum1 {
			t.Fatalf("cat of the link on %s: %v, same bytes %v", p.Host.NS, err, got == sum1)
		}
	}
	out := filepath.Join(t.TempDir(), "saved")
	c.MustRun("get", l1, "-o", out)
	if fileSum(t, out) != sum1 {
		t.Fatal("get of the link saved other bytes")
	}
	if _, err := b.Run("cat", l1[:len(l1)-6]); err == nil || !strings.Contains(err.Error(), "truncated or mistyped") {
		t.Fatalf("truncated link: %v", err)
	}
	other := make([]byte, 32)
	rand.Read(other)
	wrong := l1[:strings.Index(l1, "#")] + "#k." + base64.RawURLEncoding.EncodeToString(other)
	if _, err := b.Run("cat", wrong); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("link with a wrong key: %v", err)
	}

	// A password.
	l2 := lastLine(mustInput(t, a1, "correct horse\n", "share", "/doc.bin", "--password"))
	if !strings.Contains(l2, "#p.") {
		t.Fatalf("password link %q has no wrapped key", l2)
	}
	if _, err := catSum(b, l2, "wrong horse\n"); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("wrong password: %v", err)
	}
	if got, err := catSum(b, l2, "correct horse\n"); err != nil || got != sum1 {
		t.Fatalf("right password: %v, same bytes %v", err, got == sum1)
	}

	// A following link: the version there now, then the one the second
	// device writes.
	l3 := lastLine(a1.MustRun("share", "/doc.bin", "--follow"))
	waitFor(t, time.Minute, "the following link opens", func() bool {
		got, err := catSum(b, l3, "")
		return err == nil && got == sum1
	})
	id := shareID(t, a1)
	waitFor(t, time.Minute, "the second device learns the share", func() bool { return shareState(t, a2, id) == "standing" })
	f2, sum2 := writeNamed(t, t.TempDir(), "doc.bin", 300<<10)
	a2.MustRun("add", f2)
	waitFor(t, time.Minute, "the following link opens the second device's version", func() bool {
		got, err := catSum(b, l3, "")
		return err == nil && got == sum2
	})

	// Unshare on one device; the other learns it before writing more.
	a1.MustRun("unshare", l3)
	waitFor(t, time.Minute, "the second device learns the end", func() bool { return shareState(t, a2, id) == "ended" })
	f3, sum3 := writeNamed(t, t.TempDir(), "doc.bin", 200<<10)
	a2.MustRun("add", f3)
	waitFor(t, time.Minute, "the following link says the share ended", func() bool {
		_, err := catSum(b, l3, "")
		return err != nil && strings.Contains(err.Error(), "ended this share")
	})
	waitFor(t, time.Minute, "the first device takes in the third version", func() bool {
		out, err := a1.Run("cat", "/doc.bin")
		return err == nil && sha256.Sum256([]byte(out)) == sum3
	})
	if got, err := catSum(c, l3, ""); err == nil {
		t.Fatalf("an ended following link still opens a version (the newest: %v)", got == sum3)
	}
	// The link to one version still opens it: that cannot be taken back.
	if got, err := catSum(c, l1, ""); err != nil || got != sum1 {
		t.Fatalf("the link to one version after unshare: %v", err)
	}
}

func mustInput(t *testing.T, p *lantest.Peer, stdin string, args ...string) string {
	t.Helper()
	out, err := p.RunInput(stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type shareRow struct {
	ID      string     `json:"id"`
	Ended   *time.Time `json:"ended"`
	Expires *time.Time `json:"expires"`
}

func shares(t *testing.T, p *lantest.Peer) []shareRow {
	t.Helper()
	var out []shareRow
	if err := json.Unmarshal([]byte(p.MustRun("shares", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func shareID(t *testing.T, p *lantest.Peer) string {
	t.Helper()
	list := shares(t, p)
	if len(list) != 1 {
		t.Fatalf("%d shares listed, want 1", len(list))
	}
	return list[0].ID
}

// shareState is "standing", "ended" or "" (not known) for share id on p.
func shareState(t *testing.T, p *lantest.Peer, id string) string {
	for _, s := range shares(t, p) {
		if s.ID == id {
			if s.Ended != nil {
				return "ended"
			}
			return "standing"
		}
	}
	return ""
}
