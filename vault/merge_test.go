package vault

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMerge diverges two devices from one snapshot and merges them, both
// ways round: the same snapshot, every edit kept, conflicts kept twice.
func TestMerge(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	acct := testAccount(t, 1)
	clock := time.Unix(1000, 0)
	tick := func() time.Time { clock = clock.Add(time.Second); return clock }
	devA := New(acct, mem, WithDevice("12D3KooWdeviceAAAAAAA"), WithClock(tick))
	devB := New(acct, mem, WithDevice("12D3KooWdeviceBBBBBBB"), WithClock(tick))
	tr, _ := devA.NewTree()
	putSmall(t, devA, tr, "/same.txt", "base")
	putSmall(t, devA, tr, "/both.txt", "base")
	putSmall(t, devA, tr, "/gone.txt", "base")
	putSmall(t, devA, tr, "/keep/a.txt", "base")
	base, err := devA.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	ta := base.OpenTree(devA)
	putSmall(t, devA, ta, "/both.txt", "from A")
	putSmall(t, devA, ta, "/onlyA.txt", "A")
	putSmall(t, devA, ta, "/keep/fromA.txt", "A")
	putSmall(t, devA, ta, "/new/x.txt", "A")
	putSmall(t, devA, ta, "/gone.txt", "edited by A")
	headA, err := devA.Commit(ctx, ta, base)
	if err != nil {
		t.Fatal(err)
	}
	tb := base.OpenTree(devB)
	putSmall(t, devB, tb, "/both.txt", "from B")
	putSmall(t, devB, tb, "/keep/fromB.txt", "B")
	putSmall(t, devB, tb, "/new/y.txt", "B")
	if _, err := tb.Remove(ctx, "/gone.txt"); err != nil {
		t.Fatal(err)
	}
	headB, err := devB.Commit(ctx, tb, base)
	if err != nil {
		t.Fatal(err)
	}

	m1, err := devA.Merge(ctx, headA, headB)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := devB.Merge(ctx, headB, headA)
	if err != nil {
		t.Fatal(err)
	}
	if !m1.CID.Equals(m2.CID) {
		t.Fatalf("merging on A gave %s, on B %s", m1.CID, m2.CID)
	}
	if len(m1.Parents) != 2 || m1.Seq != 3 {
		t.Fatalf("merge parents %v seq %d", m1.Parents, m1.Seq)
	}
	mt := m1.OpenTree(devA)
	read := func(p string) string {
		e, err := mt.Stat(ctx, p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		fv, err := devA.OpenFile(ctx, e.CID, p)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := devA.ReadRange(ctx, fv, &b, 0, -1); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for p, want := range map[string]string{
		"/same.txt": "base", "/onlyA.txt": "A", "/keep/a.txt": "base", "/keep/fromA.txt": "A",
		"/keep/fromB.txt": "B", "/new/x.txt": "A", "/new/y.txt": "B", "/gone.txt": "edited by A",
		"/both.txt": "from B", // B's edit is the newer one
	} {
		if got := read(p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	es, _ := mt.List(ctx, "/")
	var conflict string
	for _, e := range es {
		if strings.HasPrefix(e.Name, "both.sync-conflict-") {
			conflict = e.Name
		}
	}
	if !strings.HasSuffix(conflict, "-AAAAAAA.txt") {
		t.Fatalf("no conflict copy of A's edit in %v", names(es))
	}
	if got := read("/" + conflict); got != "from A" {
		t.Fatalf("conflict copy holds %q", got)
	}
	// Merging again changes nothing: the merge is a descendant of both.
	if ok, _ := devA.IsAncestor(ctx, headA.CID, m1.CID); !ok {
		t.Fatal("head A is not an ancestor of the merge")
	}
	if !slices.Contains(m1.Parents, headB.CID) {
		t.Fatal("head B is not a parent of the merge")
	}
}

// TestMergeAllOrder: three diverged heads give one snapshot whatever order
// they come in, and a head that descends from the others is taken as is.
func TestMergeAllOrder(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	v := New(testAccount(t, 1), mem, WithClock(func() time.Time { return time.Unix(5, 0) }))
	tr, _ := v.NewTree()
	putSmall(t, v, tr, "/base.txt", "base")
	base, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	var heads []*Snapshot
	for _, n := range []string{"/x", "/y", "/z"} {
		t2 := base.OpenTree(v)
		putSmall(t, v, t2, n, n)
		h, err := v.Commit(ctx, t2, base)
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
	}
	m1, err := v.MergeAll(ctx, heads)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := v.MergeAll(ctx, []*Snapshot{heads[2], heads[0], heads[1], base})
	if err != nil {
		t.Fatal(err)
	}
	if !m1.CID.Equals(m2.CID) {
		t.Fatalf("merging in another order gave %s, not %s", m2.CID, m1.CID)
	}
	es, _ := m1.OpenTree(v).List(ctx, "/")
	if !slices.Equal(names(es), []string{"base.txt", "x", "y", "z"}) {
		t.Fatalf("merged tree %v", names(es))
	}
	if m3, err := v.MergeAll(ctx, []*Snapshot{base, m1}); err != nil || !m3.CID.Equals(m1.CID) {
		t.Fatalf("a descendant of all was not taken as is: %v", err)
	}
}
