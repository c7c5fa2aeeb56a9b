package blockstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	pin "github.com/ipfs/boxo/pinning/pinner"
	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/peer-cloud/peer/blockstore"
)

// blockKey is where boxo's block store keeps the block c.
func blockKey(c cid.Cid) ds.Key {
	return ds.NewKey("/blocks").Child(dshelp.MultihashToDsKey(c.Hash()))
}

// leaves returns the CIDs nd links to.
func leaves(nd ipld.Node) []cid.Cid {
	var out []cid.Cid
	for _, l := range nd.Links() {
		out = append(out, l.Cid)
	}
	return out
}

func TestVerifyFindsDamagedAndMissingBlocks(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), blockstore.ProfilePi)
	defer s.Close()
	pinned := addRandom(t, s, 3<<20) // a root and three 1 MiB leaves
	if err := s.Pinner().PinWithMode(ctx, pinned.Cid(), pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	kept := addRandom(t, s, 2<<20+5) // kept as the account's head is
	s.AddRoots(func(context.Context) ([]cid.Cid, error) { return []cid.Cid{kept.Cid()}, nil })
	stray := addRandom(t, s, 1000) // neither pinned nor kept

	rep, err := s.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Blocks != 4+4+1 || rep.Roots != 2 || rep.Reachable != 8 {
		t.Fatalf("intact store: %+v; want 9 blocks checked, 2 roots, 8 reachable, nothing wrong", rep)
	}

	bad, gone := leaves(pinned)[1], leaves(kept)[2]
	if err := s.Datastore().Put(ctx, blockKey(bad), []byte("not the bytes it was")); err != nil {
		t.Fatal(err)
	}
	if err := s.Datastore().Delete(ctx, blockKey(gone)); err != nil {
		t.Fatal(err)
	}
	// A stray block with other bytes is damaged too, though nothing needs it.
	if err := s.Datastore().Put(ctx, blockKey(stray.Cid()), []byte("x")); err != nil {
		t.Fatal(err)
	}
	var calls int
	rep, err = s.Verify(ctx, func(int, int64) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blocks != 8 || calls != 8 {
		t.Fatalf("checked %d blocks, %d progress calls; want 8", rep.Blocks, calls)
	}
	want := map[cid.Cid]cid.Cid{bad: pinned.Cid(), cid.NewCidV1(cid.Raw, stray.Cid().Hash()): cid.Undef}
	if len(rep.Damaged) != 2 {
		t.Fatalf("damaged %+v; want %s (from %s) and the stray block", rep.Damaged, bad, pinned.Cid())
	}
	for _, p := range rep.Damaged {
		root, ok := want[p.CID]
		if !ok || p.Root != root || !strings.Contains(p.Reason, "do not match its hash") {
			t.Fatalf("damaged %+v; want %s (from %s) and the stray block", rep.Damaged, bad, pinned.Cid())
		}
	}
	if len(rep.Missing) != 1 || rep.Missing[0].CID != gone || rep.Missing[0].Root != kept.Cid() {
		t.Fatalf("missing %+v; want %s from %s", rep.Missing, gone, kept.Cid())
	}
}

// A value log cut short (the blocks' bytes live there, their keys in the
// tables) leaves blocks Badger cannot read; it logs them and returns no
// bytes. They are damaged, not missing, each with the root that needs it.
func TestVerifyFindsUnreadableBlocks(t *testing.T) {
	ctx := context.Background()
	dir := copyStore(t, baseStore(t))
	truncate(t, filepath.Join(dir, "000001.vlog"), 4_000_000)
	s := open(t, dir, blockstore.ProfilePi)
	defer s.Close()
	rep, err := s.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blocks != 12 || rep.Roots != 3 || len(rep.Missing) != 0 {
		t.Fatalf("%+v; want 12 blocks checked, 3 roots, none missing", rep)
	}
	// 9 MiB of leaves, of which the first ~3.8 MiB are left.
	if n := len(rep.Damaged); n < 4 || n > 6 {
		t.Fatalf("%d damaged: %+v; want 4-6 of the 9 leaves", n, rep.Damaged)
	}
	for _, p := range rep.Damaged {
		if p.Reason != "it reads back empty (cut short or unreadable)" || !p.Root.Defined() {
			t.Fatalf("damaged %+v; want unreadable blocks each with its root", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "000001.vlog")); err != nil {
		t.Fatal(err)
	}
}
