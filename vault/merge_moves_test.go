package vault

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestMergeMoves: moves on one device against edits on another (issue
// 15, item 4). The edit ends up at the moved path, once; every case is
// merged both ways round, on both devices, to one snapshot.
func TestMergeMoves(t *testing.T) {
	ctx := context.Background()
	base := map[string]string{"/d/f": "f0", "/d/g": "g0", "/d/sub/h": "h0", "/a.txt": "a0", "/keep": "k0"}
	mv := func(from, to string) func(*testing.T, *Vault, *Tree) {
		return func(t *testing.T, v *Vault, tr *Tree) {
			if err := tr.Move(ctx, from, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	put := func(p, c string) func(*testing.T, *Vault, *Tree) {
		return func(t *testing.T, v *Vault, tr *Tree) { putSmall(t, v, tr, p, c) }
	}
	rm := func(p string) func(*testing.T, *Vault, *Tree) {
		return func(t *testing.T, v *Vault, tr *Tree) {
			if _, err := tr.Remove(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	type op = func(*testing.T, *Vault, *Tree)
	// want: every file of the merge; "/d/g" → "g0" etc. A value of "*"
	// matches any content (conflict copies, whose names hold times).
	for _, tc := range []struct {
		name string
		a, b []op
		want map[string]string
	}{
		{"folder moved, file in it edited", []op{mv("/d", "/e")}, []op{put("/d/f", "f1")},
			map[string]string{"/e/f": "f1", "/e/g": "g0", "/e/sub/h": "h0", "/a.txt": "a0", "/keep": "k0"}},
		{"folder moved, deep file edited and one added", []op{mv("/d", "/e")}, []op{put("/d/sub/h", "h1"), put("/d/sub/new", "n")},
			map[string]string{"/e/f": "f0", "/e/g": "g0", "/e/sub/h": "h1", "/e/sub/new": "n", "/a.txt": "a0", "/keep": "k0"}},
		{"file moved, edited", []op{mv("/a.txt", "/b.txt")}, []op{put("/a.txt", "a1")},
			map[string]string{"/b.txt": "a1", "/d/f": "f0", "/d/g": "g0", "/d/sub/h": "h0", "/keep": "k0"}},
		{"file moved into a new folder, edited", []op{mv("/a.txt", "/n/m/a.txt")}, []op{put("/a.txt", "a1")},
			map[string]string{"/n/m/a.txt": "a1", "/d/f": "f0", "/d/g": "g0", "/d/sub/h": "h0", "/keep": "k0"}},
		{"folder moved, file moved out of it on the other side", []op{mv("/d", "/e")}, []op{mv("/d/f", "/f"), put("/d/g", "g1")},
			map[string]string{"/f": "f0", "/e/g": "g1", "/e/sub/h": "h0", "/a.txt": "a0", "/keep": "k0"}},
		{"folder and a file out of it moved, both edited", []op{mv("/d", "/e"), mv("/e/f", "/f")}, []op{put("/d/f", "f1"), put("/d/g", "g1")},
			map[string]string{"/f": "f1", "/e/g": "g1", "/e/sub/h": "h0", "/a.txt": "a0", "/keep": "k0"}},
		{"both moved the folder to different places: the smaller path", []op{mv("/d", "/y"), put("/y/g", "g1")}, []op{mv("/d", "/x"), put("/x/f", "f1")},
			map[string]string{"/x/f": "f1", "/x/g": "g1", "/x/sub/h": "h0", "/a.txt": "a0", "/keep": "k0"}},
		// A side's move into its place for a folder that lost goes to the
		// winner's place: the file was once at /y/a.txt, and /y made anew
		// with the folder's key, beside /x holding the same key.
		{"both moved the folder, one moved a file into it, the other edited the file", []op{mv("/d", "/y"), mv("/a.txt", "/y/a.txt")}, []op{mv("/d", "/x"), put("/a.txt", "a1")},
			map[string]string{"/x/f": "f0", "/x/g": "g0", "/x/sub/h": "h0", "/x/a.txt": "a1", "/keep": "k0"}},
		{"both moved the file to one place, one edited it", []op{mv("/a.txt", "/b.txt")}, []op{mv("/a.txt", "/b.txt"), put("/b.txt", "a1")},
			map[string]string{"/b.txt": "a1", "/d/f": "f0", "/d/g": "g0", "/d/sub/h": "h0", "/keep": "k0"}},
		{"folder moved, removed on the other side: the move wins", []op{mv("/d", "/e")}, []op{rm("/d")},
			map[string]string{"/e/f": "f0", "/e/g": "g0", "/e/sub/h": "h0", "/a.txt": "a0", "/keep": "k0"}},
		{"folder moved, its file removed on the other side", []op{mv("/d", "/e")}, []op{rm("/d/f")},
			map[string]string{"/e/g": "g0", "/e/sub/h": "h0", "/a.txt": "a0", "/keep": "k0"}},
		{"folders swapped into each other's place: nothing lost", []op{mv("/d", "/t"), mv("/keep", "/d")}, []op{put("/d/f", "f1")},
			map[string]string{"/t/f": "f1", "/t/g": "g0", "/t/sub/h": "h0", "/d": "k0", "/a.txt": "a0"}},
		// The destination collides: the other side wrote a file there.
		// The move is not followed: it is a removal of /d, against which
		// the edit in it is kept where it was; nothing is lost.
		{"destination taken", []op{mv("/d", "/e")}, []op{put("/e", "e1"), put("/d/f", "f1")},
			map[string]string{"/e/f": "f0", "/e/g": "g0", "/e/sub/h": "h0", "/e.sync-conflict-*": "e1", "/d/f": "f1", "/a.txt": "a0", "/keep": "k0"}},
		{"folder removed, file in it edited: the edit is kept, alone", []op{rm("/d")}, []op{put("/d/sub/h", "h1")},
			map[string]string{"/d/sub/h": "h1", "/a.txt": "a0", "/keep": "k0"}},
		// A file put where a folder was removes the folder, as rm does:
		// of the folder, only what the other side changed stays, and the
		// file is a conflict copy beside it, or takes the name if nothing
		// stays (TestMergeHistories seeds 242 and 330 brought back
		// what the file's writer had removed).
		{"folder replaced by a file, a file added in it", []op{rm("/d"), put("/d", "x")}, []op{put("/d/new", "n")},
			map[string]string{"/d/new": "n", "/d.sync-conflict-*": "x", "/a.txt": "a0", "/keep": "k0"}},
		{"folder replaced by a file, a file removed from it", []op{rm("/d"), put("/d", "x")}, []op{rm("/d/f")},
			map[string]string{"/d": "x", "/a.txt": "a0", "/keep": "k0"}},
		{"a file moved out over its folder, a file in the folder edited", []op{mv("/d/f", "/x"), rm("/d"), mv("/x", "/d")}, []op{put("/d/g", "g1")},
			map[string]string{"/d/g": "g1", "/d.sync-conflict-*": "f0", "/a.txt": "a0", "/keep": "k0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			devs := testDevices(t, "moves "+tc.name, 2000, 2)
			tr, _ := devs[0].NewTree()
			for _, p := range slices.Sorted(maps.Keys(base)) {
				putSmall(t, devs[0], tr, p, base[p])
			}
			s0, err := devs[0].Commit(ctx, tr)
			if err != nil {
				t.Fatal(err)
			}
			ha := edit(t, devs[0], s0, func(tr *Tree) {
				for _, f := range tc.a {
					f(t, devs[0], tr)
				}
			})
			hb := edit(t, devs[1], s0, func(tr *Tree) {
				for _, f := range tc.b {
					f(t, devs[1], tr)
				}
			})
			m1, err := devs[0].Merge(ctx, ha, hb)
			if err != nil {
				t.Fatal(err)
			}
			m2, err := devs[1].Merge(ctx, hb, ha)
			if err != nil {
				t.Fatal(err)
			}
			if !m1.CID.Equals(m2.CID) {
				t.Fatalf("merges differ: %s, %s", m1.CID, m2.CID)
			}
			got := contents(t, devs[0], m1)
			checkContents(t, got, tc.want)
			// One folder, one key; but where a move collides, the folder
			// is at both places (a removal and an addition), key and all.
			keys := map[[32]byte]string{}
			for p, e := range treeEntries(t, m1.OpenTree(devs[0])) {
				if e.Kind != KindDir || tc.name == "destination taken" {
					continue
				}
				if q, ok := keys[e.Key]; ok {
					t.Errorf("folders %s and %s have one key", p, q)
				}
				keys[e.Key] = p
			}
			// Every block of the merge is stored: a fresh vault over the
			// same store reads it all (readTree above did, through the
			// store alone).
		})
	}
}

// checkContents compares a tree's files with want, whose names may end
// in "*" to match any rest of a name.
func checkContents(t *testing.T, got, want map[string]string) {
	t.Helper()
	left := maps.Clone(got)
	for p, c := range want {
		if pre, ok := strings.CutSuffix(p, "*"); ok {
			found := false
			for g, gc := range left {
				if strings.HasPrefix(g, pre) && gc == c {
					delete(left, g)
					found = true
					break
				}
			}
			if !found {
				t.Errorf("no %s holding %q in %v", p, c, got)
			}
			continue
		}
		if left[p] != c {
			t.Errorf("%s = %q, want %q", p, left[p], c)
		}
		delete(left, p)
	}
	for p, c := range left {
		t.Errorf("unexpected %s (%q)", p, c)
	}
}
