package blockstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"

	pin "github.com/ipfs/boxo/pinning/pinner"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/ipfsfile"
)

func open(t *testing.T, dir string, p blockstore.Profile) *blockstore.Store {
	t.Helper()
	s, err := blockstore.Open(context.Background(), dir, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func addRandom(t *testing.T, s *blockstore.Store, n int) ipld.Node {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		t.Fatal(err)
	}
	nd, err := ipfsfile.Add(context.Background(), s.DAG(), bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return nd
}

func TestGCKeepsPinnedDropsRest(t *testing.T) {
	ctx := context.Background()
	for _, p := range []blockstore.Profile{blockstore.ProfileDefault, blockstore.ProfilePi} {
		t.Run(string(p), func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, p)
			kept := addRandom(t, s, 5<<20+7)
			dropped := addRandom(t, s, 3<<20+1)
			if err := s.Pinner().PinWithMode(ctx, kept.Cid(), pin.Recursive, ""); err != nil {
				t.Fatal(err)
			}
			before, err := s.Stat(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if before.Blocks != 6+1+4+1 || before.Pins != 1 {
				t.Fatalf("before GC: %d blocks, %d pins; want 12 blocks, 1 pin", before.Blocks, before.Pins)
			}
			res, err := s.GC(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.Removed != 5 || res.Kept != 7 {
				t.Fatalf("GC removed %d, kept %d; want 5 and 7", res.Removed, res.Kept)
			}
			if has, _ := s.Blockstore().Has(ctx, dropped.Cid()); has {
				t.Fatal("GC kept the unpinned root")
			}
			// Reopen: the pinned file must read back whole.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t, dir, p)
			defer s.Close()
			st, err := s.Stat(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Blocks != 7 || st.Pins != 1 {
				t.Fatalf("after reopen: %d blocks, %d pins; want 7 and 1", st.Blocks, st.Pins)
			}
			if _, err := ipld.GetDAG(ctx, s.DAG(), kept)[0].Get(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOpenTwiceFailsWithLockError(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, blockstore.ProfileDefault)
	defer s.Close()
	_, err := blockstore.Open(context.Background(), dir, blockstore.ProfileDefault, nil)
	if err == nil {
		t.Fatal("second open of a store succeeded")
	}
}
