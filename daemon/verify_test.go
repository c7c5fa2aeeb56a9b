package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/daemon"
	"github.com/peer-cloud/peer/repo"
)

// storedBlock is a block key in the datastore and its size.
type storedBlock struct {
	key  ds.Key
	size int
}

// withStore opens the repo's block store (no daemon running) for fn.
func withStore(t *testing.T, r *repo.Repo, fn func(*blockstore.Store)) {
	t.Helper()
	s, err := blockstore.Open(context.Background(), r.BlocksDir(), blockstore.ProfileDefault, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	fn(s)
}

// storedBlocks lists the store's blocks, largest first.
func storedBlocks(t *testing.T, s *blockstore.Store) []storedBlock {
	t.Helper()
	res, err := s.Datastore().Query(context.Background(), dsq.Query{Prefix: "/blocks", KeysOnly: true, ReturnsSizes: true})
	if err != nil {
		t.Fatal(err)
	}
	es, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	var out []storedBlock
	for _, e := range es {
		out = append(out, storedBlock{ds.RawKey(e.Key), e.Size})
	}
	slices.SortFunc(out, func(a, b storedBlock) int { return b.size - a.size })
	return out
}

// TestRepoVerifyFindsLostHistory damages blocks of a file version that
// only the account's history still needs, and checks that verify finds
// them through the API and with no daemon running.
func TestRepoVerifyFindsLostHistory(t *testing.T) {
	ctx := context.Background()
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	r, err := repo.Init(t.TempDir(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	file := filepath.Join(src, "f.bin")
	addVersion := func(c *api.Client) {
		t.Helper()
		randomFile(t, src, "f.bin", 3<<20)
		if _, err := c.VaultAdd(ctx, "/", []string{file}, nil); err != nil {
			t.Fatal(err)
		}
	}

	d, c := startRepo(t, r)
	addVersion(c)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	var first []storedBlock
	withStore(t, r, func(s *blockstore.Store) { first = storedBlocks(t, s) })

	d, c = startRepo(t, r)
	addVersion(c) // new content: the first version's chunks are history now
	rep, err := c.RepoVerify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Roots < 1 || rep.Blocks < len(first)+3 {
		t.Fatalf("intact repo: %+v; want ok, the head among the roots, both versions' blocks checked", rep)
	}
	acct, err := c.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// The two largest blocks of the first add are chunks of version 1.
	gone, bad := first[0], first[1]
	withStore(t, r, func(s *blockstore.Store) {
		if err := s.Datastore().Delete(ctx, gone.key); err != nil {
			t.Fatal(err)
		}
		if err := s.Datastore().Put(ctx, bad.key, []byte("other bytes")); err != nil {
			t.Fatal(err)
		}
	})
	check := func(how string, rep api.VerifyReport) {
		t.Helper()
		if rep.OK || len(rep.Missing) != 1 || len(rep.Damaged) != 1 {
			t.Fatalf("%s: %+v; want one missing and one damaged block", how, rep)
		}
		if rep.Missing[0].Root != acct.Head || rep.Damaged[0].Root != acct.Head {
			t.Fatalf("%s: %+v; want both reached from the head %s", how, rep, acct.Head)
		}
	}
	off, err := daemon.VerifyRepo(ctx, r, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("no daemon", off)

	_, c = startRepo(t, r)
	on, err := c.RepoVerify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check("through the API", on)
	if on.Missing[0] != off.Missing[0] || on.Damaged[0] != off.Damaged[0] {
		t.Fatalf("the daemon found %+v, verify with no daemon %+v", on, off)
	}
	if _, err := os.Stat(r.BlocksDir()); err != nil {
		t.Fatal(err)
	}
}
