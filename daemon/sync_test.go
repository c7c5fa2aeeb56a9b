package daemon_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

// device is a daemon of a test account on 127.0.0.1.
type device struct{ c *api.Client }

// devicePair starts two devices of one account on 127.0.0.1 (mDNS off),
// the second dialling the first.
func devicePair(t *testing.T) (a, b *device) {
	t.Helper()
	acct, err := vault.NewAccount(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var first *peer.AddrInfo
	var out []*device
	for range 2 {
		cfg := repo.DefaultConfig()
		cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		cfg.Network.MDNS = false
		cfg.API.Listen = "127.0.0.1:0"
		if first != nil {
			for _, a := range first.Addrs {
				cfg.Network.Peers = append(cfg.Network.Peers, a.String()+"/p2p/"+first.ID.String())
			}
		}
		r, err := repo.Init(t.TempDir(), cfg, acct.Secret())
		if err != nil {
			t.Fatal(err)
		}
		d, c := startRepo(t, r)
		if first == nil {
			ai := d.Node().AddrInfo()
			first = &ai
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := d.Node().WaitPeers(ctx, 1); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, &device{c: c})
	}
	return out[0], out[1]
}

// waitUntil polls check every 10 ms until it holds or bound passes.
func waitUntil(t *testing.T, bound time.Duration, what string, check func() bool) {
	t.Helper()
	end := time.Now().Add(bound)
	for !check() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFolderSyncTwoDevices: two devices of one account sync a folder;
// live edits, additions, removals and renames on either disk reach the
// other's.
func TestFolderSyncTwoDevices(t *testing.T) {
	ctx := context.Background()
	a, b := devicePair(t)
	da, db := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(da, "from-a"), []byte("a was here"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(db, "from-b"), []byte("b was here"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		dv  *device
		dir string
	}{{a, da}, {b, db}} {
		f, err := x.dv.c.SyncAdd(ctx, x.dir, "/Shared")
		if err != nil || f.Vault != "/Shared" {
			t.Fatalf("sync add: %+v, %v", f, err)
		}
	}
	same := func(p string, want []byte) func() bool {
		return func() bool {
			ga, errA := os.ReadFile(filepath.Join(da, p))
			gb, errB := os.ReadFile(filepath.Join(db, p))
			return errA == nil && errB == nil && bytes.Equal(ga, want) && bytes.Equal(gb, want)
		}
	}
	waitUntil(t, 20*time.Second, "joined folders merged", func() bool {
		return same("from-a", []byte("a was here"))() && same("from-b", []byte("b was here"))()
	})
	if fi, err := os.Stat(filepath.Join(da, "from-b")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode on the other disk: %v, %v", fi.Mode(), err)
	}
	// Live edits both ways.
	for i, x := range []struct{ from, to string }{{da, db}, {db, da}, {da, db}} {
		data := bytes.Repeat([]byte{byte('0' + i)}, 100000+i)
		if err := os.WriteFile(filepath.Join(x.from, "live"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 10*time.Second, "live edit on the other disk", same("live", data))
	}
	// A folder renamed on B is renamed on A; a file removed on A is
	// removed on B.
	if err := os.MkdirAll(filepath.Join(db, "dir/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(db, "dir/sub/x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "new folder on A", same("dir/sub/x", []byte("x")))
	if err := os.Rename(filepath.Join(db, "dir"), filepath.Join(db, "renamed")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(da, "from-a")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "rename and removal on the other disk", func() bool {
		_, errA := os.Stat(filepath.Join(da, "dir"))
		_, errB := os.Stat(filepath.Join(db, "from-a"))
		return same("renamed/sub/x", []byte("x"))() && os.IsNotExist(errA) && os.IsNotExist(errB)
	})
	for _, dv := range []*device{a, b} {
		ss, err := dv.c.SyncStatus(ctx, "")
		if err != nil || len(ss) != 1 || ss[0].LastError != "" {
			t.Fatalf("status %+v, %v", ss, err)
		}
	}
	if err := b.c.SyncRm(ctx, db); err != nil {
		t.Fatal(err)
	}
	if fs, err := b.c.SyncLs(ctx); err != nil || len(fs) != 0 {
		t.Fatalf("after rm: %+v, %v", fs, err)
	}
	if _, err := os.Stat(filepath.Join(db, "renamed/sub/x")); err != nil {
		t.Fatal("sync rm deleted a file")
	}
}
