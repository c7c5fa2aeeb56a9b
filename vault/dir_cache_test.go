package vault

import (
	"context"
	"errors"
	"fmt"
	"testing"

	bstore "github.com/ipfs/boxo/blockstore"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// TestDirCache: a folder read again comes from the cache and gives the
// same entries; a cached node lost from the store is read from the store
// again, so the loss shows as a MissingError instead of going unseen;
// and the cache stays within its bound.
func TestDirCache(t *testing.T) {
	ctx := context.Background()
	bs := bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	v := New(testAccount(t, 1), LocalBlocks(bs))
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1500 { // a shard of leaves at the top
		putSmall(t, v, tr, fmt.Sprintf("/big/f%04d", i), "x")
	}
	putSmall(t, v, tr, "/small/a.txt", "a")
	s, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	list := func() (n int, err error) {
		es, err := s.OpenTree(v).List(ctx, "/big")
		return len(es), err
	}
	if n, err := list(); err != nil || n != 1500 {
		t.Fatalf("first ls /big: %d entries, %v", n, err)
	}
	if v.dirs.n == 0 || v.dirs.n > maxCachedEntries {
		t.Fatalf("the cache holds %d entries (bound %d)", v.dirs.n, maxCachedEntries)
	}
	if n, err := list(); err != nil || n != 1500 {
		t.Fatalf("ls /big from the cache: %d entries, %v", n, err)
	}
	top, err := s.OpenTree(v).Stat(ctx, "/small")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenTree(v).Stat(ctx, "/small/a.txt"); err != nil {
		t.Fatal(err)
	}
	if err := bs.DeleteBlock(ctx, top.CID); err != nil {
		t.Fatal(err)
	}
	var me *MissingError
	if _, err := s.OpenTree(v).Stat(ctx, "/small/a.txt"); !errors.As(err, &me) || !me.CID.Equals(top.CID) {
		t.Fatalf("a cached folder node lost from the store: %v, want a MissingError for %s", err, top.CID)
	}
}
