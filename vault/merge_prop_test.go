package vault

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

var (
	longMerge  = flag.Bool("merge.long", false, "run TestMergeHistories over many more seeds")
	mergeSeeds = flag.Int("merge.seeds", 0, "run TestMergeHistories over this many seeds")
)

// TestMergeHistories: three devices of one account make random adds,
// overwrites, moves and deletes, and exchange heads over links that go
// down and come back (partitions), merging what they hear of as the
// daemon does (MergeAll of its head and the one heard). After the links
// heal and they converge: merging the heads they had in any order gives
// one snapshot, and no file path a device removed is there unless a
// snapshot that device did not know of when it removed it wrote it.
func TestMergeHistories(t *testing.T) {
	seeds := 12
	if *longMerge {
		seeds = 400
	}
	if *mergeSeeds > 0 {
		seeds = *mergeSeeds
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { mergeHistory(t, uint64(seed), 36) })
	}
}

// pathEvent is a snapshot that removed or wrote a file path.
type pathEvent struct {
	snap *Snapshot
	what string
}

// historyLog records, for every snapshot, the file paths it removed and
// wrote: a device's snapshot writes the paths whose entry differs from its
// parent's and removes those its parent had. A merge removes nothing of
// its own. It writes the paths no parent has (conflict copies: two merges
// that do not know each other may make one copy, and one device's removal
// of it does not remove the other's, as with any addition on one side). A
// version it holds where a parent holds another (an edit that followed a
// move of the file or a folder above it) is written by the device
// snapshots that wrote that version, wherever they did: the edit is new
// to a remover only if they are.
type historyLog struct {
	seen    map[cid.Cid]bool
	removed map[string][]pathEvent
	wrote   map[string][]pathEvent
	writers map[cid.Cid][]*Snapshot // the device snapshots that wrote a version
}

func (h *historyLog) record(t *testing.T, v *Vault, s *Snapshot) {
	t.Helper()
	ctx := context.Background()
	if h.seen[s.CID] {
		return
	}
	h.seen[s.CID] = true
	var parents []map[string]Entry
	for _, p := range s.Parents {
		ps, err := v.OpenSnapshot(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		h.record(t, v, ps)
		parents = append(parents, fileEntries(t, ps.OpenTree(v)))
	}
	files := fileEntries(t, s.OpenTree(v))
	if s.Device != "" {
		var parent map[string]Entry
		if len(parents) == 1 {
			parent = parents[0]
		}
		for p, e := range files {
			if pe, ok := parent[p]; !ok || pe.CID != e.CID {
				h.wrote[p] = append(h.wrote[p], pathEvent{s, s.Device})
				h.writers[e.CID] = append(h.writers[e.CID], s)
			}
		}
		for p := range parent {
			if _, ok := files[p]; !ok {
				h.removed[p] = append(h.removed[p], pathEvent{s, s.Device})
			}
		}
		return
	}
	for p, e := range files {
		if slices.ContainsFunc(parents, func(m map[string]Entry) bool { pe, ok := m[p]; return ok && pe.CID == e.CID }) {
			continue
		}
		if !slices.ContainsFunc(parents, func(m map[string]Entry) bool { _, ok := m[p]; return ok }) {
			h.wrote[p] = append(h.wrote[p], pathEvent{s, "merge"}) // a new name: a conflict copy
			continue
		}
		if len(h.writers[e.CID]) == 0 {
			t.Fatalf("merge %s holds at %s a version no device wrote", s.CID, p)
		}
		for _, w := range h.writers[e.CID] {
			h.wrote[p] = append(h.wrote[p], pathEvent{w, fmt.Sprintf("merge %s (seq %d), of the version by %s", s.CID, s.Seq, w.Device)})
		}
	}
}

// fileEntries returns the files of a tree by path.
func fileEntries(t *testing.T, tr *Tree) map[string]Entry {
	out := treeEntries(t, tr)
	for p, e := range out {
		if e.Kind != KindFile {
			delete(out, p)
		}
	}
	return out
}

// mergeHistory is one run of TestMergeHistories.
func mergeHistory(t *testing.T, seed uint64, steps int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 15))
	mem := newMem()
	acct := testAccount(t, 1)
	clock := time.Unix(10_000, 0)
	tick := func() time.Time { clock = clock.Add(time.Duration(1+rng.IntN(3)) * time.Second / 2); return clock }
	var devs []*Vault
	for i := range 3 {
		devs = append(devs, New(acct, mem, WithDevice(fmt.Sprintf("12D3KooWdevice%07d", i)), WithClock(tick),
			WithRand(bytes.NewReader(testStream(fmt.Sprint("history ", seed, " ", i), 1<<16)))))
	}
	log := &historyLog{seen: map[cid.Cid]bool{}, removed: map[string][]pathEvent{}, wrote: map[string][]pathEvent{}, writers: map[cid.Cid][]*Snapshot{}}
	tr, _ := devs[0].NewTree()
	putSmall(t, devs[0], tr, "/a/f1", "start")
	putSmall(t, devs[0], tr, "/b/f2", "start")
	s0, err := devs[0].Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	heads := []*Snapshot{s0, s0, s0}
	up := [3][3]bool{{true, true, true}, {true, true, true}, {true, true, true}}
	folders := []string{"/", "/a", "/b", "/a/c", "/n"}
	names := []string{"f1", "f2", "f3", "f4", "c"}
	randPath := func() string { return path.Join(folders[rng.IntN(len(folders))], names[rng.IntN(len(names))]) }
	pick := func(tr *Tree, dirs bool) string {
		var ps []string
		for p, e := range treeEntries(t, tr) {
			if dirs || e.Kind == KindFile {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			return ""
		}
		slices.Sort(ps)
		return ps[rng.IntN(len(ps))]
	}
	op := 0
	change := func(i int) {
		v := devs[i]
		tr := heads[i].OpenTree(v)
		for range 1 + rng.IntN(3) {
			op++
			switch rng.IntN(5) {
			case 0, 1: // add, or overwrite a path that may be taken
				p := randPath()
				if e, err := tr.Stat(ctx, p); err == nil && e.Kind == KindDir {
					continue
				}
				writeOnce(t, v, tr, p, fmt.Sprint("dev", i, " op", op))
			case 2: // overwrite
				if p := pick(tr, false); p != "" {
					writeOnce(t, v, tr, p, fmt.Sprint("dev", i, " op", op))
				}
			case 3: // move a file or a folder
				if p := pick(tr, true); p != "" {
					to := randPath()
					if rng.IntN(2) == 0 {
						to = folders[rng.IntN(len(folders))] // into a folder
					}
					tr.Move(ctx, p, to)
				}
			case 4: // remove a file or a folder
				if p := pick(tr, true); p != "" {
					tr.Remove(ctx, p)
				}
			}
		}
		if !tr.Dirty() {
			return
		}
		s, err := v.Commit(ctx, tr, heads[i])
		if err != nil {
			t.Fatal(err)
		}
		heads[i] = s
		log.record(t, v, s)
	}
	hear := func(i, j int) {
		m, err := devs[i].MergeAll(ctx, []*Snapshot{heads[i], heads[j]})
		if err != nil {
			t.Fatalf("device %d failed to merge: %v", i, err)
		}
		heads[i] = m
		log.record(t, devs[i], m)
	}
	for range steps {
		switch r := rng.IntN(10); {
		case r < 5:
			change(rng.IntN(3))
		case r < 8:
			i, j := rng.IntN(3), rng.IntN(3)
			if i != j && up[i][j] {
				hear(i, j)
			}
		default: // a link goes down or comes back
			i, j := rng.IntN(3), rng.IntN(3)
			up[i][j] = !up[i][j]
			up[j][i] = up[i][j]
		}
	}
	// Heal: the heads they had merge to one snapshot in any order.
	last := slices.Clone(heads)
	var want *Snapshot
	for _, perm := range [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		m, err := devs[perm[0]].MergeAll(ctx, []*Snapshot{last[perm[0]], last[perm[1]], last[perm[2]]})
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = m
		} else if !m.CID.Equals(want.CID) {
			t.Fatalf("merging in order %v gave %s, not %s", perm, m.CID, want.CID)
		}
	}
	for i := range 3 {
		for j := range 3 {
			if i < j {
				m1, err1 := devs[i].Merge(ctx, last[i], last[j])
				m2, err2 := devs[j].Merge(ctx, last[j], last[i])
				if err1 != nil || err2 != nil || !m1.CID.Equals(m2.CID) {
					t.Fatalf("merging %d and %d both ways: %v %v", i, j, err1, err2)
				}
			}
		}
	}
	// And pairwise, as devices hear each other, they converge.
	hear(0, 1)
	hear(0, 2)
	hear(1, 0)
	hear(2, 0)
	if !heads[0].CID.Equals(heads[1].CID) || !heads[1].CID.Equals(heads[2].CID) {
		t.Fatalf("devices did not converge: %s %s %s", heads[0].CID, heads[1].CID, heads[2].CID)
	}
	for _, final := range []*Snapshot{want, heads[0]} {
		log.record(t, devs[0], final)
		checkNoResurrection(t, devs[0], log, final)
	}
}

// checkNoResurrection fails if a file path of final was removed by a
// device and not written since by a snapshot the removal did not know.
func checkNoResurrection(t *testing.T, v *Vault, log *historyLog, final *Snapshot) {
	t.Helper()
	ctx := context.Background()
	for p := range fileEntries(t, final.OpenTree(v)) {
	removals:
		for _, rm := range log.removed[p] {
			for _, w := range log.wrote[p] {
				known, err := v.IsAncestor(ctx, w.snap.CID, rm.snap.CID)
				if err != nil {
					t.Fatal(err)
				}
				if !known {
					continue removals
				}
			}
			if testing.Verbose() {
				fe, _ := final.OpenTree(v).Stat(ctx, p)
				t.Logf("final %s = %s", p, fe.CID)
				for _, w := range log.wrote[p] {
					t.Logf("wrote by %s seq %d snap %s", w.what, w.snap.Seq, w.snap.CID)
				}
				for _, r := range log.removed[p] {
					t.Logf("removed by %s seq %d snap %s", r.what, r.snap.Seq, r.snap.CID)
				}
				dumpHistory(t, v, final)
			}
			t.Fatalf("%s came back: %s removed it (seq %d) and nobody wrote it since", p, rm.what, rm.snap.Seq)
		}
	}
}

// writeOnce writes content at p in tr, following what was there.
func writeOnce(t *testing.T, v *Vault, tr *Tree, p, content string) {
	t.Helper()
	var prev cid.Cid
	if e, err := tr.Stat(context.Background(), p); err == nil {
		prev = e.CID
	}
	fv, err := v.WriteFile(context.Background(), strings.NewReader(content), FileInput{Name: path.Base(p), Mtime: 1, Prev: prev})
	if err != nil {
		t.Fatal(err)
	}
	tr.PutFile(context.Background(), p, fv) // fails where a file stands on the way
}

// dumpHistory logs every snapshot below head with its files and folders
// (a folder with the first bytes of its key), oldest first.
func dumpHistory(t *testing.T, v *Vault, head *Snapshot) {
	snaps, err := v.Log(context.Background(), head.CID, 0)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(snaps, func(a, b *Snapshot) int { return int(a.Seq) - int(b.Seq) })
	short := func(c cid.Cid) string { s := c.String(); return s[len(s)-6:] }
	for _, s := range snaps {
		var ps, files []string
		for _, p := range s.Parents {
			ps = append(ps, short(p))
		}
		es := treeEntries(t, s.OpenTree(v))
		for _, p := range slices.Sorted(maps.Keys(es)) {
			if e := es[p]; e.Kind == KindDir {
				files = append(files, fmt.Sprintf("%s/(%x)", p, e.Key[:2]))
			} else {
				files = append(files, p+"="+short(e.CID))
			}
		}
		t.Logf("seq %d %s device %q parents %v: %v", s.Seq, short(s.CID), s.Device, ps, files)
	}
}
