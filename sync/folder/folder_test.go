package folder

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peer-cloud/peer/vault"
)

const bound = 10 * time.Second

// TestBothWays: local files reach the vault, vault changes reach the
// disk with their mode and mtime, and removals go both ways.
func TestBothWays(t *testing.T) {
	d := newDev(t)
	dir := t.TempDir()
	a := randBytes(3000)
	write(t, filepath.Join(dir, "a.txt"), a)
	write(t, filepath.Join(dir, "sub/b.txt"), []byte("bee"))
	c := d.add(dir, "")
	if c.Vault != "/"+filepath.Base(dir) {
		t.Fatalf("vault folder %q", c.Vault)
	}
	eventually(t, bound, "local files in the vault", func() bool {
		return string(d.vaultFile(c.Vault+"/sub/b.txt")) == "bee" && len(d.vaultFile(c.Vault+"/a.txt")) == len(a)
	})
	remote := randBytes(70000)
	d.put(c.Vault+"/sub/remote.bin", remote)
	p := filepath.Join(dir, "sub/remote.bin")
	eventually(t, bound, "vault file on disk", func() bool { return hasFile(p, remote) })
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)) {
		t.Fatalf("written with mode %v, mtime %v (%v)", fi.Mode(), fi.ModTime(), err)
	}
	// A local edit becomes a new version; a vault removal removes it.
	write(t, filepath.Join(dir, "a.txt"), []byte("edited"))
	eventually(t, bound, "edit in the vault", func() bool { return string(d.vaultFile(c.Vault+"/a.txt")) == "edited" })
	d.change(func(ctx context.Context, tr *vault.Tree) error {
		_, err := tr.Remove(ctx, c.Vault+"/a.txt")
		return err
	})
	eventually(t, bound, "vault removal on disk", func() bool { return gone(filepath.Join(dir, "a.txt")) })
	// A local removal (a folder) leaves the vault.
	if err := os.RemoveAll(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	eventually(t, bound, "local removal in the vault", func() bool { return len(d.vaultNames(c.Vault)) == 0 })
	eventually(t, bound, "idle", func() bool {
		st := d.status(dir)
		return st.State == StateIdle && st.LastError == "" && st.Files == 0 && st.Folders == 0
	})
	if _, err := os.Stat(filepath.Join(dir, Marker)); err != nil {
		t.Fatal(err)
	}
	if names := d.vaultNames(c.Vault); slices.Contains(names, Marker) {
		t.Fatal("the marker was synced")
	}
}

// TestJoinMerges: adding a folder with files to a vault folder with
// files deletes nothing: both sets end up on both sides, and a path both
// hold with different content keeps both (the merge's conflict copy).
func TestJoinMerges(t *testing.T) {
	d := newDev(t)
	d.put("/J/vault-only", []byte("v"))
	d.put("/J/both-same", []byte("same"))
	d.put("/J/both-differ", []byte("vault side"))
	dir := t.TempDir()
	write(t, filepath.Join(dir, "disk-only"), []byte("d"))
	write(t, filepath.Join(dir, "both-same"), []byte("same"))
	write(t, filepath.Join(dir, "both-differ"), []byte("disk side"))
	d.add(dir, "/J")
	eventually(t, bound, "both sides merged", func() bool {
		names := d.vaultNames("/J")
		for _, n := range names {
			if !hasFile(filepath.Join(dir, n), d.vaultFile("/J/"+n)) {
				return false
			}
		}
		des, _ := os.ReadDir(dir)
		return len(des) == 6 && len(names) == 5 // 5 + the marker on disk
	})
	for _, n := range []string{"vault-only", "disk-only", "both-same"} {
		if !hasFile(filepath.Join(dir, n), d.vaultFile("/J/"+n)) {
			t.Fatalf("%s differs between disk and vault", n)
		}
	}
	var contents []string
	for _, n := range d.vaultNames("/J") {
		if strings.HasPrefix(n, "both-differ") {
			contents = append(contents, string(d.vaultFile("/J/"+n)))
			got, _ := os.ReadFile(filepath.Join(dir, n))
			if string(got) != string(d.vaultFile("/J/"+n)) {
				t.Fatalf("%s: disk %q, vault %q", n, got, d.vaultFile("/J/"+n))
			}
		}
	}
	slices.Sort(contents)
	if !slices.Equal(contents, []string{"disk side", "vault side"}) {
		t.Fatalf("conflicting path holds %q", contents)
	}
}

// TestVaultMoveIsRename: a folder moved in the vault is renamed on disk
// (same inodes), not removed and written again.
func TestVaultMoveIsRename(t *testing.T) {
	d := newDev(t)
	for i := range 20 {
		d.put("/M/old/f"+string(rune('a'+i)), randBytes(100))
	}
	d.put("/M/file", []byte("moving file"))
	dir := t.TempDir()
	d.add(dir, "/M")
	eventually(t, bound, "folder on disk", func() bool { return !gone(filepath.Join(dir, "old/ft")) && !gone(filepath.Join(dir, "file")) })
	ino := func(p string) uint64 {
		fi, err := os.Lstat(p)
		if err != nil {
			return 0
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	before, fileBefore := ino(filepath.Join(dir, "old/fa")), ino(filepath.Join(dir, "file"))
	d.change(func(ctx context.Context, tr *vault.Tree) error {
		if err := tr.Move(ctx, "/M/old", "/M/new/place"); err != nil {
			return err
		}
		return tr.Move(ctx, "/M/file", "/M/new/file")
	})
	eventually(t, bound, "move on disk", func() bool {
		return gone(filepath.Join(dir, "old")) && !gone(filepath.Join(dir, "new/place/ft")) && !gone(filepath.Join(dir, "new/file"))
	})
	if got := ino(filepath.Join(dir, "new/place/fa")); got != before {
		t.Fatalf("moved file has inode %d, was %d: written again", got, before)
	}
	if got := ino(filepath.Join(dir, "new/file")); got != fileBefore {
		t.Fatalf("moved file has inode %d, was %d: written again", got, fileBefore)
	}
}

// TestLocalRenameIsMove: a folder renamed on disk is moved in the vault,
// keeping its key (other devices rename it too).
func TestLocalRenameIsMove(t *testing.T) {
	d := newDev(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a/x"), []byte("x"))
	write(t, filepath.Join(dir, "a/y"), []byte("y"))
	d.add(dir, "/R")
	eventually(t, bound, "in the vault", func() bool { return string(d.vaultFile("/R/a/y")) == "y" })
	key := func(p string) [32]byte {
		tr, _ := d.acct.ReadTree()
		e, _ := tr.Stat(context.Background(), p)
		return e.Key
	}
	k := key("/R/a")
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	eventually(t, bound, "renamed in the vault", func() bool { return string(d.vaultFile("/R/b/y")) == "y" && d.vaultFile("/R/a/y") == nil })
	if key("/R/b") != k {
		t.Fatal("the renamed folder has a new key: it was removed and added, not moved")
	}
}

// TestRenameAcrossScans: a folder renamed into a folder made just
// before is a move even when the scan that sees its new name does not
// cover its old one (the watcher's events for the two ends came apart,
// or the new folder's watch was added after the rename).
func TestRenameAcrossScans(t *testing.T) {
	d := openDev(t, newRepo(t), Options{noWatch: true})
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a/x"), []byte("x"))
	write(t, filepath.Join(dir, "keep"), []byte("k"))
	d.add(dir, "/R")
	eventually(t, bound, "in the vault", func() bool { return string(d.vaultFile("/R/a/x")) == "x" })
	key := func(p string) [32]byte {
		tr, _ := d.acct.ReadTree()
		e, _ := tr.Stat(context.Background(), p)
		return e.Key
	}
	k := key("/R/a")
	if err := os.MkdirAll(filepath.Join(dir, "archive/2026"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "archive/2026/a")); err != nil {
		t.Fatal(err)
	}
	d.svc.mu.Lock()
	f := d.svc.folders[dir].f
	d.svc.mu.Unlock()
	f.markDirty("archive", time.Now().Add(-time.Hour))
	eventually(t, bound, "moved in the vault", func() bool {
		return string(d.vaultFile("/R/archive/2026/a/x")) == "x" && d.vaultFile("/R/a/x") == nil
	})
	if key("/R/archive/2026/a") != k {
		t.Fatal("the renamed folder has a new key: it was added, not moved")
	}
}

// TestBigFileHoldsNoChange: a big file is read into the vault before
// the change that names it, so other changes go on meanwhile (the hook
// makes one while the file's content is written: inside the folder's
// change it would wait for the account's lock for good).
func TestBigFileHoldsNoChange(t *testing.T) {
	var d *dev
	other := make(chan error, 1)
	d = openDev(t, newRepo(t), Options{hook: func(stage, rel string) {
		if stage != "read" {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := d.acct.Change(ctx, false, func(ctx context.Context, t *vault.Tree) error {
			return t.Mkdir(ctx, "/elsewhere", false, time.Now().UnixNano())
		})
		other <- err
	}})
	dir := t.TempDir()
	big := make([]byte, bigFile+1)
	rand.Read(big)
	write(t, filepath.Join(dir, "big.bin"), big)
	d.add(dir, "/B")
	select {
	case err := <-other:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no change was made while the big file was read")
	}
	eventually(t, bound, "the big file in the vault", func() bool { return bytes.Equal(d.vaultFile("/B/big.bin"), big) })
	tr, _ := d.acct.ReadTree()
	if _, err := tr.Stat(context.Background(), "/elsewhere"); err != nil {
		t.Fatalf("the other change is lost: %v", err)
	}
}

// TestMarkerMissing: a folder whose marker is gone stops; removing its
// files then deletes nothing in the vault.
func TestMarkerMissing(t *testing.T) {
	d := newDev(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "keep"), []byte("k"))
	d.add(dir, "/K")
	eventually(t, bound, "in the vault", func() bool { return string(d.vaultFile("/K/keep")) == "k" })
	// An unmounted disk: everything gone, the marker too.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	eventually(t, bound, "stopped", func() bool { return d.status(dir).State == StateStopped })
	if !strings.Contains(d.status(dir).LastError, "marker") {
		t.Fatalf("status %+v", d.status(dir))
	}
	d.put("/K/remote", []byte("r"))
	d.svc.Status(dir) // the loop runs on; give it the head
	if string(d.vaultFile("/K/keep")) != "k" {
		t.Fatal("the vault lost the file of a folder whose marker is gone")
	}
	if !gone(filepath.Join(dir, "remote")) {
		t.Fatal("a stopped folder was written")
	}
}

// TestSettle: a file written in pieces for a while is taken once,
// complete.
func TestSettle(t *testing.T) {
	d := openDev(t, newRepo(t), Options{Settle: 300 * time.Millisecond})
	dir := t.TempDir()
	d.add(dir, "/S")
	p := filepath.Join(dir, "growing")
	fh, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for range 20 { // 2 s of writing, a piece every 100 ms
		b := randBytes(10000)
		all = append(all, b...)
		if _, err := fh.Write(b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // the writer's pace, not a wait
	}
	fh.Close()
	eventually(t, bound, "in the vault", func() bool { return len(d.vaultFile("/S/growing")) == len(all) })
	vs, err := d.acct.Vault().Versions(context.Background(), d.acct.Head().CID, "/S/growing")
	if err != nil || len(vs) != 1 {
		t.Fatalf("%d versions (%v); want 1", len(vs), err)
	}
}

// TestUnscannedChangeKept: a remote change never replaces a local
// change that was not scanned yet; it is scanned, and the merge keeps
// both.
func TestUnscannedChangeKept(t *testing.T) {
	d := openDev(t, newRepo(t), Options{Settle: time.Hour, MaxDelay: time.Hour})
	dir := t.TempDir()
	d.put("/U/f", []byte("one"))
	d.add(dir, "/U")
	p := filepath.Join(dir, "f")
	eventually(t, bound, "on disk", func() bool { return hasFile(p, []byte("one")) })
	// The watcher's event waits an hour to settle: the edit is unscanned.
	write(t, p, []byte("local edit"))
	d.put("/U/f", []byte("remote edit"))
	eventually(t, bound, "reported", func() bool {
		for _, ps := range d.status(dir).OutOfSync {
			if ps.Path == "f" {
				return true
			}
		}
		return false
	})
	if !hasFile(p, []byte("local edit")) {
		t.Fatal("an unscanned local change was overwritten")
	}
}
