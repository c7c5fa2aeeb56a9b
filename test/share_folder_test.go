package test

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// TestShareFolders: a link to a folder opens it (list, read a file in it,
// save it whole) on a node of another account, and keeps opening the
// folder as it was; a following link to a folder sees what is added, and
// after unshare nothing; a published folder is listed and read as plain
// UnixFS; the account's second device keeps the folder's copy, so a
// fresh node reads the link with the first device (and the reader) gone;
// a contact added on one device reaches the other.
func TestShareFolders(t *testing.T) {
	lan := lantest.New(t, 4)
	a1, a2 := devicePair(t, lan)
	b := lantest.NewPeer(t, lan.Hosts[2], lantest.PeerOptions{MDNS: true})
	c := lantest.NewPeer(t, lan.Hosts[3], lantest.PeerOptions{MDNS: true})
	b.Start()
	c.Start()
	a1.MustRun("peers", "--wait", "3", "--timeout", "60s")
	ida := accountOf(t, a1)
	// A contact added on one device reaches the other.
	a1.MustRun("contacts", "add", accountOf(t, b), "--name", "bee")

	dir := filepath.Join(t.TempDir(), "proj")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, sumX := writeNamed(t, dir, "x.bin", 1<<20)
	_, sumY := writeNamed(t, filepath.Join(dir, "sub"), "y.txt", 3000)
	a1.MustRun("add", dir)

	// A link to the folder as it is now.
	l1 := lastLine(a1.MustRun("share", "/proj"))
	if !strings.HasPrefix(l1, "peer://s/") {
		t.Fatalf("folder link %q is not of the documented form", l1)
	}
	if out := b.MustRun("ls", l1); !strings.Contains(out, "x.bin") || !strings.Contains(out, "sub") {
		t.Fatalf("ls of the folder link: %q", out)
	}
	if out := b.MustRun("ls", l1, "/sub"); !strings.Contains(out, "y.txt") {
		t.Fatalf("ls of a folder in the link: %q", out)
	}
	if got, err := b.Run("cat", l1, "/sub/y.txt"); err != nil || sha256.Sum256([]byte(got)) != sumY {
		t.Fatalf("cat of a file in the folder link: %v", err)
	}
	if _, err := b.Run("cat", l1); err == nil || !strings.Contains(err.Error(), "opens a folder") {
		t.Fatalf("cat of a folder link: %v", err)
	}
	if _, err := b.Run("cat", l1, "/nothing"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("cat of a missing name in the folder link: %v", err)
	}
	saved := filepath.Join(t.TempDir(), "saved")
	b.MustRun("get", l1, "-o", saved)
	if fileSum(t, filepath.Join(saved, "x.bin")) != sumX || fileSum(t, filepath.Join(saved, "sub", "y.txt")) != sumY {
		t.Fatal("get of the folder link saved other bytes")
	}

	// A following link to it; then a file is added.
	l2 := lastLine(a1.MustRun("share", "/proj", "--follow"))
	waitFor(t, time.Minute, "the following folder link opens", func() bool {
		out, err := b.Run("ls", l2)
		return err == nil && strings.Contains(out, "x.bin")
	})
	newFile, sumNew := writeNamed(t, t.TempDir(), "new.txt", 500)
	a1.MustRun("add", newFile, "--to", "/proj")
	waitFor(t, time.Minute, "the following folder link lists the new file", func() bool {
		got, err := b.Run("cat", l2, "/new.txt")
		return err == nil && sha256.Sum256([]byte(got)) == sumNew
	})
	if out := b.MustRun("ls", l1); strings.Contains(out, "new.txt") {
		t.Fatalf("the link to the folder's version lists a file added later: %q", out)
	}
	a1.MustRun("unshare", l2)
	later, _ := writeNamed(t, t.TempDir(), "later.txt", 500)
	a1.MustRun("add", later, "--to", "/proj")
	waitFor(t, time.Minute, "the ended folder link says so", func() bool {
		_, err := b.Run("ls", l2)
		return err != nil && strings.Contains(err.Error(), "ended this share")
	})

	// The folder published: plain UnixFS, listed and read from B.
	a1.MustRun("publish", "/proj", "--yes")
	waitFor(t, time.Minute, "another account lists the published folder", func() bool {
		out, err := b.Run("ls", ida+":/proj/sub")
		return err == nil && strings.Contains(out, "y.txt")
	})
	if got, err := b.Run("cat", ida+":/proj/x.bin"); err != nil || sha256.Sum256([]byte(got)) != sumX {
		t.Fatalf("cat of a file in the published folder: %v", err)
	}
	pub := filepath.Join(t.TempDir(), "pub")
	b.MustRun("get", ida+":/proj", "-o", pub)
	if fileSum(t, filepath.Join(pub, "sub", "y.txt")) != sumY || fileSum(t, filepath.Join(pub, "later.txt")) == ([32]byte{}) {
		t.Fatal("get of the published folder saved other files")
	}

	// The second device keeps the folder link's copy; with the first gone,
	// a node that never read the link reads it.
	waitFor(t, time.Minute, "the second device has the first's contact", func() bool {
		out, err := a2.Run("contacts")
		return err == nil && strings.Contains(out, "bee")
	})
	waitFor(t, time.Minute, "the second device holds the shared folder", func() bool {
		return strings.Contains(a2.Logs(), "holds a folder the account shared")
	})
	a1.Stop()
	b.Stop() // it holds what it read of the folder, and would serve it too
	if got, err := c.Run("cat", l1, "/sub/y.txt"); err != nil || sha256.Sum256([]byte(got)) != sumY {
		t.Fatalf("cat of the folder link served by the second device: %v", err)
	}
	if out := a2.MustRun("unshare", l1); !strings.Contains(out, "/proj") {
		t.Fatalf("unshare of the folder link printed %q", out)
	}
}
