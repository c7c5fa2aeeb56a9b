package vault

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// testDevices returns n vaults of one account over one store, with fixed
// keys (from the test stream seed) and clocks that each use advances by
// a second from start, so every run writes the same blocks.
func testDevices(t testing.TB, seed string, start int64, n int) []*Vault {
	t.Helper()
	mem := newMem()
	acct := testAccount(t, 1)
	clock := time.Unix(start, 0)
	tick := func() time.Time { clock = clock.Add(time.Second); return clock }
	rnd := bytes.NewReader(testStream(seed, 1<<16))
	var out []*Vault
	for i := range n {
		out = append(out, New(acct, mem, WithDevice(fmt.Sprintf("12D3KooWdevice%c%c%c%c%c%c%c", 'A'+i, 'A'+i, 'A'+i, 'A'+i, 'A'+i, 'A'+i, 'A'+i)), WithClock(tick), WithRand(rnd)))
	}
	return out
}

// edit opens s on v, applies f and commits with s as the only parent.
func edit(t testing.TB, v *Vault, s *Snapshot, f func(tr *Tree)) *Snapshot {
	t.Helper()
	tr := s.OpenTree(v)
	f(tr)
	n, err := v.Commit(context.Background(), tr, s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// mustMerge merges heads on v with MergeAll.
func mustMerge(t testing.TB, v *Vault, heads ...*Snapshot) *Snapshot {
	t.Helper()
	m, err := v.MergeAll(context.Background(), heads)
	if err != nil {
		t.Fatalf("failed to merge: %v", err)
	}
	return m
}

// contents reads every file of s by path.
func contents(t testing.TB, v *Vault, s *Snapshot) map[string]string {
	t.Helper()
	return readTree(t, v, s.OpenTree(v))
}

// TestMergeCrissCross is issue 15's resurrected delete. Devices 1 and 2
// both overwrite /f16.dat (2 first, then 1) and merge each other's change,
// device 2 after one more change of its own, so the two merges have two
// best common ancestors (the two overwrites). Device 1 then removes the
// file. Against device 2's overwrite alone the removal and device 1's
// merged value both look like changes, and an edit wins over a delete;
// against a merge of both overwrites only the removal is a change. A
// third device, cut off since the start, merges its stale head in last.
// Every variant of the contents must leave the file deleted.
func TestMergeCrissCross(t *testing.T) {
	for i := range 6 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			ctx := context.Background()
			devs := testDevices(t, fmt.Sprint("crisscross ", i), 1000, 3)
			d1, d2, d3 := devs[0], devs[1], devs[2]
			tr, _ := d1.NewTree()
			putSmall(t, d1, tr, "/f16.dat", "base")
			putSmall(t, d1, tr, "/other.txt", "base")
			s0, err := d1.Commit(ctx, tr)
			if err != nil {
				t.Fatal(err)
			}
			y := edit(t, d2, s0, func(tr *Tree) { putSmall(t, d2, tr, "/f16.dat", fmt.Sprint("A", i)) })
			x := edit(t, d1, s0, func(tr *Tree) { putSmall(t, d1, tr, "/f16.dat", fmt.Sprint("B", i)) })
			y2 := edit(t, d2, y, func(tr *Tree) { putSmall(t, d2, tr, "/d2.txt", "more") })
			m := mustMerge(t, d1, x, y)
			n := mustMerge(t, d2, y2, x)
			if bases, _ := d1.MergeBases(ctx, m, n); len(bases) != 2 {
				t.Fatalf("%d merge bases, want 2 (the history is not criss-cross)", len(bases))
			}
			m2 := edit(t, d1, m, func(tr *Tree) {
				if _, err := tr.Remove(ctx, "/f16.dat"); err != nil {
					t.Fatal(err)
				}
			})
			z := edit(t, d3, s0, func(tr *Tree) { putSmall(t, d3, tr, "/d3.txt", "stale") })
			var first *Snapshot
			for _, heads := range [][]*Snapshot{{m2, n}, {n, m2}, {m2, n, z}, {z, n, m2}, {n, z, m2}} {
				got := mustMerge(t, devs[len(heads)-1], heads...)
				c := contents(t, d1, got)
				if v, ok := c["/f16.dat"]; ok {
					t.Fatalf("merging %d heads brought /f16.dat back (%q)", len(heads), v)
				}
				if c["/d2.txt"] != "more" || c["/other.txt"] != "base" {
					t.Fatalf("merge lost a change: %v", c)
				}
				if len(heads) == 3 {
					if c["/d3.txt"] != "stale" {
						t.Fatalf("merge lost the stale head's change: %v", c)
					}
					if first == nil {
						first = got
					} else if !first.CID.Equals(got.CID) {
						t.Fatalf("merging in another order gave %s, not %s", got.CID, first.CID)
					}
				}
				// The conflict copy both merges made is kept: device 1
				// did not remove it.
				var copies []string
				for p := range c {
					if strings.Contains(p, conflictMark) {
						copies = append(copies, p)
					}
				}
				if len(copies) != 1 || c[copies[0]] != fmt.Sprint("A", i) {
					t.Fatalf("conflict copies %v, want one of device 2's overwrite", copies)
				}
			}
		})
	}
}

// TestMergeStaleVersion: a side that holds an older version than the
// merge base makes no change there (TestMergeHistories -merge.long seed
// 320). Device 2 moves /a/f1 (v1) to /f1 while device 0 edits it at /a/f1
// (v2); devices 1 and 0 each remove the edit. Device 1 merges the move
// with its removal: the move wins, /f1 is v1. Device 2 edits /f1 (v3),
// merges device 0's removal, and removes /f1. The last two heads have two
// best common ancestors, the move and the edit, whose virtual base holds
// the edit at the moved place, /f1 = v2. Against it device 1's v1 looked
// like an edit and won over device 2's removal, though device 2 had
// followed v1 with v3 and removed that.
func TestMergeStaleVersion(t *testing.T) {
	ctx := context.Background()
	devs := testDevices(t, "stale version", 3000, 3)
	d0, d1, d2 := devs[0], devs[1], devs[2]
	tr, _ := d0.NewTree()
	putSmall(t, d0, tr, "/a/f1", "v1")
	putSmall(t, d0, tr, "/b/f2", "base")
	s0, err := d0.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	rm := func(p string) func(tr *Tree) {
		return func(tr *Tree) {
			if _, err := tr.Remove(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	moved := edit(t, d2, s0, func(tr *Tree) {
		if err := tr.Move(ctx, "/a/f1", "/f1"); err != nil {
			t.Fatal(err)
		}
	})
	edited := edit(t, d0, s0, func(tr *Tree) { writeOnce(t, d0, tr, "/a/f1", "v2") })
	rm1 := edit(t, d1, edited, rm("/a/f1"))
	rm0 := edit(t, d0, edited, rm("/a/f1"))
	m1 := mustMerge(t, d1, moved, rm1)
	if c := contents(t, d1, m1); c["/f1"] != "v1" {
		t.Fatalf("the move did not win over the removal: %v", c)
	}
	v3 := edit(t, d2, moved, func(tr *Tree) { writeOnce(t, d2, tr, "/f1", "v3") })
	m2 := mustMerge(t, d2, v3, rm0)
	gone := edit(t, d2, m2, rm("/f1"))
	if bases, _ := d0.MergeBases(ctx, m1, gone); len(bases) != 2 {
		t.Fatalf("%d merge bases, want 2 (the move and the edit)", len(bases))
	}
	var first *Snapshot
	for _, heads := range [][]*Snapshot{{m1, gone}, {gone, m1}} {
		for _, d := range devs {
			got := mustMerge(t, d, heads...)
			if first == nil {
				first = got
			} else if !got.CID.Equals(first.CID) {
				t.Fatalf("merging in another order or on another device gave %s, not %s", got.CID, first.CID)
			}
		}
	}
	checkContents(t, contents(t, d0, first), map[string]string{"/b/f2": "base"})
}
