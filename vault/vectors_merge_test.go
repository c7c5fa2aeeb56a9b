package vault

// merge.json: histories written by hand, and the snapshot merging their
// heads must give, byte for byte (SPEC.md, "Merging").

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

type mergeVectors struct {
	Note  string      `json:"note"`
	Cases []mergeCase `json:"cases"`
}

// mergeCase is a history, the heads of it a device knows (in the order it
// heard of them) and what merging them writes.
type mergeCase struct {
	Comment string        `json:"comment"`
	Secret  string        `json:"secret"`
	Heads   []string      `json:"heads"`
	Bases   []string      `json:"bases,omitempty"` // with two heads: their best common ancestors, by CID bytes
	Blocks  []blockVector `json:"blocks"`          // every block of the history, in the order written
	Merged  string        `json:"merged"`
	// MergedBlocks are the blocks the merge adds to a store holding
	// Blocks, sorted by their CIDs' bytes.
	MergedBlocks []blockVector     `json:"merged_blocks"`
	Files        map[string]string `json:"files"` // the merge's files and their contents
}

// mergeDevices are the device IDs of the merge vectors' three devices.
var mergeDevices = []string{"12D3KooWdevice1111111", "12D3KooWdevice2222222", "12D3KooWdevice3333333"}

func makeMerges(t *testing.T) mergeVectors {
	return mergeVectors{Note: regenerate + ". Each history: secret 0x01 x 32; devices " + strings.Join(mergeDevices, ", ") +
		" share one clock (2026-01-01T00:00:00Z, +1 s a reading) and one rand stream (test stream \"rand\"); files written with mode 0, mtime 1",
		Cases: []mergeCase{
			makeMergeCase(t, "two heads and their base: both edit /notes (no dot), /.bashrc (a dotfile), /a.tar.gz (two dots) and a 244-byte name of 120 x \"é\" + \".txt\", the later edit (device 2's) keeping the name; device 2 also holds the name device 1's /notes copy would take, so that copy gets -2; /b.txt edited on 1 and removed on 2 (the edit stays); /gone.txt removed on 1, kept on 2 (it goes); /x a file on 2 and a folder on 1 (the folder keeps the name); /new.txt added on both; /tie.txt edited on both at the same time (the greater CID by its bytes keeps the name, and its string form is the smaller)", conflicts),
			makeMergeCase(t, "four heads, one of them (the base) an ancestor of the others: merged in one step, the three others sorted by CID bytes and merged left to right; devices 1 and 2 both edit /a, 2 edits /b, 3 removes /c and adds /d/e", threeHeads),
			makeMergeCase(t, "criss-cross (issue 15): devices 1 and 2 both overwrite /f16.dat and merge each other's change, 2 after one more change; 1 then removes the file; merged with a third device's stale head, the file stays removed", crissCross),
			makeMergeCase(t, "a folder moved on one device, a file in it edited on the other: the edit at the moved path, once", moveAgainstEdit),
		}}
}

// makeMergeCase records the blocks of the history build writes and
// merges the heads it returns.
func makeMergeCase(t *testing.T, comment string, build func(t *testing.T, devs []*Vault) []*Snapshot) mergeCase {
	ctx := context.Background()
	rec := newRecorder()
	acct := testAccount(t, 1)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tick := func() time.Time { clock = clock.Add(time.Second); return clock }
	rnd := bytes.NewReader(testStream("rand", 1<<16))
	var devs []*Vault
	for _, d := range mergeDevices {
		devs = append(devs, New(acct, rec, WithDevice(d), WithClock(tick), WithRand(rnd), WithWorkers(1)))
	}
	heads := build(t, devs)
	mc := mergeCase{Comment: comment, Secret: hex.EncodeToString(acct.root[:])}
	for _, h := range heads {
		mc.Heads = append(mc.Heads, h.CID.String())
	}
	if len(heads) == 2 {
		bases, err := devs[0].MergeBases(ctx, heads[0], heads[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bases {
			mc.Bases = append(mc.Bases, b.CID.String())
		}
	}
	for _, c := range rec.order {
		mc.Blocks = append(mc.Blocks, blockVector{c.String(), hex.EncodeToString(rec.m[string(c.Hash())])})
	}
	n := len(rec.order)
	m, err := devs[0].MergeAll(ctx, heads)
	if err != nil {
		t.Fatal(err)
	}
	mc.Merged = m.CID.String()
	mc.MergedBlocks = rec.since(n)
	mc.Files = readTree(t, devs[0], m.OpenTree(devs[0]))
	return mc
}

// conflicts is two heads of one base with every kind of conflict.
func conflicts(t *testing.T, devs []*Vault) []*Snapshot {
	ctx := context.Background()
	d1, d2 := devs[0], devs[1]
	long := "/" + strings.Repeat("é", 120) + ".txt"
	tr, _ := d1.NewTree()
	for _, p := range []string{"/notes", "/.bashrc", "/a.tar.gz", "/b.txt", "/gone.txt", "/x", "/tie.txt", long} {
		putSmall(t, d1, tr, p, p+" 0")
	}
	s0, err := d1.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	// The two edits of /tie.txt share a time (00:01:00); their contents are the
	// first pair whose versions' CIDs order one way by bytes and the
	// other by their string form.
	at := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	tie := func(v *Vault) *Vault { w := *v; w.now = func() time.Time { return at }; return &w }
	base, _ := s0.OpenTree(d1).Stat(ctx, "/tie.txt")
	version := func(v *Vault, content string) cid.Cid {
		fv, err := tie(v).WithBlocks(newMem()).WriteFile(ctx, strings.NewReader(content), FileInput{Name: "tie.txt", Prev: base.CID, Mtime: 1})
		if err != nil {
			t.Fatal(err)
		}
		return fv.CID
	}
	var tie1, tie2 string
	for i := 0; tie1 == ""; i++ {
		c1, c2 := fmt.Sprint("tie 1.", i), fmt.Sprint("tie 2.", i)
		a, b := version(d1, c1), version(d2, c2)
		if (bytes.Compare(a.Bytes(), b.Bytes()) < 0) != (a.String() < b.String()) {
			tie1, tie2 = c1, c2
		}
	}
	var notesCopy string
	a := edit(t, d1, s0, func(tr *Tree) {
		for _, p := range []string{"/notes", "/.bashrc", "/a.tar.gz", "/b.txt", "/new.txt", long} {
			putSmall(t, d1, tr, p, p+" 1")
		}
		putSmall(t, tie(d1), tr, "/tie.txt", tie1)
		for _, p := range []string{"/gone.txt", "/x"} {
			if _, err := tr.Remove(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		putSmall(t, d1, tr, "/x/in.txt", "in 1")
		e, _ := tr.Stat(ctx, "/notes")
		fv, err := d1.OpenFileWithKey(ctx, e.CID, e.Key, "/notes")
		if err != nil {
			t.Fatal(err)
		}
		notesCopy = "/notes" + conflictMark + time.Unix(0, fv.Time).UTC().Format("20060102-150405") + "-1111111"
	})
	b := edit(t, d2, s0, func(tr *Tree) {
		for _, p := range []string{"/notes", "/.bashrc", "/a.tar.gz", "/x", "/new.txt", long, notesCopy} {
			putSmall(t, d2, tr, p, p+" 2")
		}
		putSmall(t, tie(d2), tr, "/tie.txt", tie2)
		if _, err := tr.Remove(ctx, "/b.txt"); err != nil {
			t.Fatal(err)
		}
	})
	return []*Snapshot{a, b}
}

// threeHeads: a base and three devices' changes of it, the base among
// the heads.
func threeHeads(t *testing.T, devs []*Vault) []*Snapshot {
	ctx := context.Background()
	d1, d2, d3 := devs[0], devs[1], devs[2]
	tr, _ := d1.NewTree()
	for _, p := range []string{"/a", "/b", "/c"} {
		putSmall(t, d1, tr, p, p+" 0")
	}
	s0, err := d1.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	h1 := edit(t, d1, s0, func(tr *Tree) { putSmall(t, d1, tr, "/a", "a 1") })
	h2 := edit(t, d2, s0, func(tr *Tree) { putSmall(t, d2, tr, "/a", "a 2"); putSmall(t, d2, tr, "/b", "b 2") })
	h3 := edit(t, d3, s0, func(tr *Tree) {
		if _, err := tr.Remove(ctx, "/c"); err != nil {
			t.Fatal(err)
		}
		putSmall(t, d3, tr, "/d/e", "e 3")
	})
	return []*Snapshot{h2, s0, h3, h1}
}

// crissCross is TestMergeCrissCross's history.
func crissCross(t *testing.T, devs []*Vault) []*Snapshot {
	ctx := context.Background()
	d1, d2, d3 := devs[0], devs[1], devs[2]
	tr, _ := d1.NewTree()
	putSmall(t, d1, tr, "/f16.dat", "base")
	s0, err := d1.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	y := edit(t, d2, s0, func(tr *Tree) { putSmall(t, d2, tr, "/f16.dat", "A") })
	x := edit(t, d1, s0, func(tr *Tree) { putSmall(t, d1, tr, "/f16.dat", "B") })
	y2 := edit(t, d2, y, func(tr *Tree) { putSmall(t, d2, tr, "/d2.txt", "more") })
	m := mustMerge(t, d1, x, y)
	n := mustMerge(t, d2, y2, x)
	m2 := edit(t, d1, m, func(tr *Tree) {
		if _, err := tr.Remove(ctx, "/f16.dat"); err != nil {
			t.Fatal(err)
		}
	})
	z := edit(t, d3, s0, func(tr *Tree) { putSmall(t, d3, tr, "/d3.txt", "stale") })
	if bases, _ := d1.MergeBases(ctx, m2, n); len(bases) != 2 {
		t.Fatalf("%d merge bases, want 2", len(bases))
	}
	return []*Snapshot{m2, n, z}
}

// moveAgainstEdit: /d moved to /e on one device, /d/f edited on the other.
func moveAgainstEdit(t *testing.T, devs []*Vault) []*Snapshot {
	ctx := context.Background()
	tr, _ := devs[0].NewTree()
	putSmall(t, devs[0], tr, "/d/f", "f0")
	putSmall(t, devs[0], tr, "/d/g", "g0")
	s0, err := devs[0].Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	a := edit(t, devs[0], s0, func(tr *Tree) {
		if err := tr.Move(ctx, "/d", "/e"); err != nil {
			t.Fatal(err)
		}
	})
	b := edit(t, devs[1], s0, func(tr *Tree) { putSmall(t, devs[1], tr, "/d/f", "f1") })
	return []*Snapshot{a, b}
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int(nil), p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// checkMerges merges each case's heads from its blocks alone, in every
// order, and wants its snapshot, the blocks it adds and its files.
func checkMerges(t *testing.T, mv mergeVectors) {
	ctx := context.Background()
	for _, mc := range mv.Cases {
		acct, _ := AccountFromSecret(mustHex(t, mc.Secret))
		for _, order := range permutations(len(mc.Heads)) {
			rec := newRecorder()
			rec.memBlocks = storeOf(t, mc.Blocks)
			v := New(acct, rec)
			var heads []*Snapshot
			for _, i := range order {
				h, err := v.OpenSnapshot(ctx, mustCIDOf(t, mc.Heads[i]))
				if err != nil {
					t.Fatalf("%s: %v", mc.Comment, err)
				}
				heads = append(heads, h)
			}
			if len(mc.Bases) > 0 {
				bases, err := v.MergeBases(ctx, heads[0], heads[1])
				if err != nil || fmt.Sprint(cidsOf(bases)) != fmt.Sprint(mc.Bases) {
					t.Fatalf("%s: merge bases %v (%v), want %v", mc.Comment, cidsOf(bases), err, mc.Bases)
				}
			}
			m, err := v.MergeAll(ctx, heads)
			if err != nil {
				t.Fatalf("%s: %v", mc.Comment, err)
			}
			if m.CID.String() != mc.Merged {
				t.Fatalf("%s: merged to %s, want %s", mc.Comment, m.CID, mc.Merged)
			}
			if got := rec.since(0); fmt.Sprint(got) != fmt.Sprint(mc.MergedBlocks) {
				t.Fatalf("%s: the merge stored %d blocks, not the %d of the vector", mc.Comment, len(got), len(mc.MergedBlocks))
			}
			got := readTree(t, v, m.OpenTree(v))
			if fmt.Sprint(got) != fmt.Sprint(mc.Files) {
				t.Fatalf("%s: merge holds %v, want %v", mc.Comment, got, mc.Files)
			}
		}
	}
	// The conflicts case has the names section Merging gives.
	files := mv.Cases[0].Files
	for _, want := range []string{"/notes.sync-conflict-", "/.bashrc.sync-conflict-", "/a.tar.sync-conflict-", "/x.sync-conflict-", "/new.sync-conflict-", "/tie.sync-conflict-", "/" + strings.Repeat("é", 106) + ".sync-conflict-"} {
		n := 0
		for p := range files {
			if strings.HasPrefix(p, want) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("the conflicts case has no %s...", want)
		}
	}
	n := 0
	for p := range files {
		if strings.HasPrefix(p, "/notes.sync-conflict-") && strings.HasSuffix(p, "-1111111-2") {
			n++
		}
	}
	if n != 1 {
		t.Error("the conflicts case has no copy of /notes with -2")
	}
}

func cidsOf(ss []*Snapshot) []string {
	out := []string{}
	for _, s := range ss {
		out = append(out, s.CID.String())
	}
	return out
}
