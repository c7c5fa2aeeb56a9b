package vault

import (
	"context"
	"testing"
)

// Hand-built histories for merge bugs first found by random seeds of
// TestMergeHistories, so that each stays covered whatever the seeds do.

// regressOps are the tree changes the tests below are written in.
type regressOps struct {
	t   *testing.T
	ctx context.Context
}

func (o regressOps) mv(from, to string) func(*Tree) {
	return func(tr *Tree) {
		if err := tr.Move(o.ctx, from, to); err != nil {
			o.t.Fatalf("move %s %s: %v", from, to, err)
		}
	}
}

func (o regressOps) rm(p string) func(*Tree) {
	return func(tr *Tree) {
		if _, err := tr.Remove(o.ctx, p); err != nil {
			o.t.Fatalf("remove %s: %v", p, err)
		}
	}
}

func (o regressOps) put(v *Vault, p, c string) func(*Tree) {
	return func(tr *Tree) { writeOnce(o.t, v, tr, p, c) }
}

// all applies fs in turn.
func all(fs ...func(*Tree)) func(*Tree) {
	return func(tr *Tree) {
		for _, f := range fs {
			f(tr)
		}
	}
}

// mergeBothWays merges x and y on every device, both ways round, checks
// that all give one snapshot and returns it.
func mergeBothWays(t *testing.T, devs []*Vault, x, y *Snapshot) *Snapshot {
	t.Helper()
	var first *Snapshot
	for _, d := range devs {
		for _, heads := range [][]*Snapshot{{x, y}, {y, x}} {
			m := mustMerge(t, d, heads...)
			if first == nil {
				first = m
			} else if !m.CID.Equals(first.CID) {
				t.Fatalf("merging in another order or on another device gave %s, not %s", m.CID, first.CID)
			}
		}
	}
	return first
}

// TestMergeMoveIntoMovedFolder (cause B, fixed in 30a9066): a side moves
// a folder into a folder the other side moved. Base: /a/g, /b/f1, /b/f2.
// Device 0 moves /b into /a (/a/b). Device 1 moves /a to /n, removes
// /n/g, makes a new /a (another key, holding /a/h) and edits /b/f1. The
// move must go where /a went: /n/b, with the edit in it. Left at the old
// path, it made /a/b in device 1's new /a with /b's key, beside /n/b (one
// key at two paths), and the edit went there, not to /n/b
// (TestMergeHistories seeds 2783, 1097).
func TestMergeMoveIntoMovedFolder(t *testing.T) {
	ctx := context.Background()
	o := regressOps{t, ctx}
	devs := testDevices(t, "regress into moved", 6000, 2)
	d0, d1 := devs[0], devs[1]
	tr, _ := d0.NewTree()
	putSmall(t, d0, tr, "/a/g", "g0")
	putSmall(t, d0, tr, "/b/f1", "f1")
	putSmall(t, d0, tr, "/b/f2", "f2")
	s0, err := d0.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	x := edit(t, d0, s0, o.mv("/b", "/a/b"))
	y := edit(t, d1, s0, all(o.mv("/a", "/n"), o.rm("/n/g"), o.put(d1, "/a/h", "h0"), o.put(d1, "/b/f1", "f1 by 1")))
	got := mergeBothWays(t, devs, x, y)
	checkContents(t, contents(t, d0, got), map[string]string{"/n/b/f1": "f1 by 1", "/n/b/f2": "f2", "/a/h": "h0"})
	checkOneKey(t, got.OpenTree(d0))
}

// checkOneKey fails if two folders of tr have one key.
func checkOneKey(t *testing.T, tr *Tree) {
	t.Helper()
	keys := map[[32]byte]string{}
	for p, e := range treeEntries(t, tr) {
		if e.Kind != KindDir {
			continue
		}
		if q, ok := keys[e.Key]; ok {
			t.Errorf("folders %s and %s have one key", p, q)
		}
		keys[e.Key] = p
	}
}
