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
