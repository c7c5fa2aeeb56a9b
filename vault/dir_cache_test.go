package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// TestDirCacheChanges: a tree whose folders come from the cache (read by
// binary search, their maps made only when changed) changes as one read
// from the store does: names removed, added and replaced in a leaf and
// in a shard, a shard slot emptied, and the shard collapsing to a leaf.
// Both trees end up holding the same entries, as a vault without the
// cache reads them back.
func TestDirCacheChanges(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	v := New(testAccount(t, 1), mem)
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1010 {
		putSmall(t, v, tr, fmt.Sprintf("/big/f%04d", i), "x")
	}
	for i := range 5 {
		putSmall(t, v, tr, fmt.Sprintf("/small/f%d", i), "x")
	}
	s, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	// Every name of one slot of /big's shard, to empty it.
	top := s.OpenTree(v)
	if _, err := top.List(ctx, "/big"); err != nil { // fills the cache
		t.Fatal(err)
	}
	dirAt := func(tr *Tree, name string) (*dir, error) {
		c, err := tr.walk(ctx, []string{name}, false, 0)
		if err != nil {
			return nil, err
		}
		return c.last(), nil
	}
	d, err := dirAt(top, "big")
	if err != nil {
		t.Fatal(err)
	}
	slot := d.slot("f0003")
	var oneSlot []string
	for i := range 1010 {
		if n := fmt.Sprintf("f%04d", i); d.slot(n) == slot {
			oneSlot = append(oneSlot, n)
		}
	}
	change := func(tr *Tree) *Snapshot {
		t.Helper()
		// Reads first, so the cached nodes' entries are got before the
		// changes make their maps.
		if _, err := tr.Stat(ctx, "/small/f1"); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Stat(ctx, "/big/f0500"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/small/f1", "/big/f0500"} {
			if _, err := tr.Remove(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range oneSlot {
			if _, err := tr.Remove(ctx, "/big/"+n); err != nil {
				t.Fatal(err)
			}
		}
		putSmall(t, v, tr, "/small/new", "y")
		putSmall(t, v, tr, "/big/f0007", "replaced")
		for _, p := range []string{"/small/f1", "/big/f0500", "/big/" + oneSlot[0]} {
			if _, err := tr.Stat(ctx, p); !errors.Is(err, ErrNotExist) {
				t.Fatalf("%s after its removal: %v", p, err)
			}
		}
		s2, err := v.Commit(ctx, tr, s)
		if err != nil {
			t.Fatal(err)
		}
		return s2
	}
	cached := change(s.OpenTree(v))
	fresh := New(testAccount(t, 1), mem) // an empty cache
	stored := change(s.OpenTree(fresh))
	// New file versions have new keys, so the trees' CIDs differ: compare
	// what they hold, each read by a vault without the cache.
	listed := func(s *Snapshot, p string) []string {
		t.Helper()
		es, err := s.OpenTree(New(testAccount(t, 1), mem)).List(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, fmt.Sprint(e.Name, " ", e.Size))
		}
		return out
	}
	for _, p := range []string{"/big", "/small"} {
		if a, b := listed(cached, p), listed(stored, p); !slices.Equal(a, b) {
			t.Fatalf("%s after the same changes: %d entries through the cache, %d through the store", p, len(a), len(b))
		}
	}
	es, err := cached.OpenTree(New(testAccount(t, 1), mem)).List(ctx, "/big")
	if err != nil {
		t.Fatal(err)
	}
	if want := 1010 - 1 - len(oneSlot); len(es) != want {
		t.Fatalf("/big holds %d entries, want %d", len(es), want)
	}
	if small := listed(cached, "/small"); !slices.Equal(small, []string{"f0 1", "f2 1", "f3 1", "f4 1", "new 1"}) {
		t.Fatalf("/small holds %v", small)
	}
	// Down to 1000 or fewer, the shard becomes a leaf again: through the
	// cache too.
	tr = cached.OpenTree(v)
	for i := 0; len(es) > 1000; i++ {
		if _, err := tr.Remove(ctx, "/big/"+es[i].Name); err != nil {
			t.Fatal(err)
		}
		es = es[1:]
	}
	if d, err := dirAt(tr, "big"); err != nil || d.isShard() {
		t.Fatalf("/big at 1000 entries: shard %v, %v", d != nil && d.isShard(), err)
	}
}
