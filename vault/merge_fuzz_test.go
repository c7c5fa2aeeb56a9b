package vault

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
)

// mergeNames is the pool of names the merge fuzzer's operations use, made
// from two fuzzed names: as they are, near the length limit, with an
// extension, and names that look like conflict copies.
func mergeNames(n1, n2 string) []string {
	long := func(s string, n int) string {
		if s == "" {
			s = "é"
		}
		if n <= 0 {
			return s
		}
		return cutRunes(strings.Repeat(s, n/len(s)+1), n)
	}
	return []string{
		n1, n2, "x",
		long(n1, MaxNameBytes),
		long(n1, MaxNameBytes-1-len(n2)) + "." + n2,
		long(n2, MaxNameBytes-1) + "a",
		long(n2, MaxNameBytes-1) + "b",
		strings.Repeat(n1+"é", 256)[:MaxNameBytes+1], // too long, may split a character: the tree refuses it
		"x" + conflictMark + "19700101-001640-unknown",
		"x" + conflictMark + "19700101-001640-BBBBBBB",
	}
}

// treeEntries returns every entry of a tree by path.
func treeEntries(t *testing.T, tr *Tree) map[string]Entry {
	t.Helper()
	ctx := context.Background()
	out := map[string]Entry{}
	var walk func(p string)
	walk = func(p string) {
		es, err := tr.List(ctx, p)
		if err != nil {
			t.Fatalf("failed to list %s: %v", p, err)
		}
		for _, e := range es {
			cp := path.Join(p, e.Name)
			out[cp] = e
			if e.Kind == KindDir {
				walk(cp)
			}
		}
	}
	walk("/")
	return out
}

// FuzzMerge builds a base and two divergent heads from fuzzed names and
// operations (write, mkdir, remove, move) over real blocks in memory,
// merges them on each device and on a third, and checks: one snapshot
// whatever the order or the device, every folder readable, every name one
// the tree accepts, every file's content one that was written, and no
// version either head added lost.
func FuzzMerge(f *testing.F) {
	e := strings.Repeat("é", 127)
	f.Add("é", "txt", "12D3KooWdeviceAAAAAAA", []byte{0, 3, 1, 4, 3, 2, 8, 3, 3})
	f.Add(e, "a.txt", "12D3KooWdeviceAAAAAAA", []byte{0, 0, 1, 4, 0, 2, 8, 0, 3, 0, 4, 1, 4, 4, 2, 8, 4, 3})
	f.Add("d", "f", "dev/ice\x00é", []byte{1, 0, 0, 0, 0x80, 1, 4, 0x80, 2, 10, 0, 0, 8, 0x80, 3, 4, 8, 4, 7, 1, 5, 0})
	f.Add("a", "b", "", []byte{0, 5, 1, 0, 6, 1, 4, 5, 2, 4, 6, 2, 8, 5, 3, 8, 6, 3, 4, 8, 1, 11, 9, 2})
	f.Add(".", "..", "x", []byte{0, 0, 1, 0, 1, 1, 4, 0, 2, 8, 1, 2, 6, 1, 2})
	f.Fuzz(mergeOnce)
}

// mergeOnce is one run of FuzzMerge.
func mergeOnce(t *testing.T, n1, n2, dev string, ops []byte) {
	// The device is this device's own peer ID: hostile characters,
	// but text.
	if len(ops) > 3*24 || len(n1) > 300 || len(n2) > 300 || !utf8.ValidString(dev) {
		return
	}
	ctx := context.Background()
	mem := newMem()
	acct := testAccount(t, 1)
	at := func(s int64) func() time.Time { return func() time.Time { return time.Unix(s, 0) } }
	// A's and B's edits may share a time: the CID breaks the tie.
	devs := []*Vault{
		New(acct, mem, WithDevice("12D3KooWdeviceBASEBAS"), WithClock(at(900))),
		New(acct, mem, WithDevice(dev), WithClock(at(1000))),
		New(acct, mem, WithDevice("12D3KooWdeviceBBBBBBB"), WithClock(at(1000+int64(len(ops)%2)))),
	}
	pool := mergeNames(n1, n2)
	pathOf := func(x byte) string {
		p := "/" + pool[int(x&0x7f)%len(pool)]
		if x&0x80 != 0 {
			p += "/" + pool[int(x>>3)%len(pool)]
		}
		return p
	}
	written := map[cid.Cid]string{}
	apply := func(v *Vault, tr *Tree, phase int) {
		for i := 0; i+2 < len(ops); i += 3 {
			code, x, y := ops[i], ops[i+1], ops[i+2]
			if int(code>>2)%3 != phase {
				continue
			}
			p := pathOf(x)
			switch code % 4 {
			case 0:
				content := fmt.Sprintf("%d:%d", phase, y)
				var prev cid.Cid
				if e, err := tr.Stat(ctx, p); err == nil {
					prev = e.CID
				}
				fv, err := v.WriteFile(ctx, strings.NewReader(content), FileInput{Name: path.Base(p), Mtime: int64(y), Prev: prev})
				if err != nil {
					continue // a name the tree refuses
				}
				written[fv.CID] = content
				tr.PutFile(ctx, p, fv)
			case 1:
				tr.Mkdir(ctx, p, true, int64(y))
			case 2:
				tr.Remove(ctx, p)
			case 3:
				tr.Move(ctx, p, pathOf(y))
			}
		}
	}
	tr, err := devs[0].NewTree()
	if err != nil {
		t.Fatal(err)
	}
	apply(devs[0], tr, 0)
	base, err := devs[0].Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	var heads []*Snapshot
	for side := 1; side <= 2; side++ {
		tr := base.OpenTree(devs[side])
		apply(devs[side], tr, side)
		h, err := devs[side].Commit(ctx, tr, base)
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
	}
	m1, err := devs[1].Merge(ctx, heads[0], heads[1])
	if err != nil {
		t.Fatalf("failed to merge: %v", err)
	}
	m2, err := devs[2].Merge(ctx, heads[1], heads[0])
	if err != nil {
		t.Fatalf("failed to merge: %v", err)
	}
	m3, err := New(acct, mem, WithDevice("third"), WithClock(at(5))).MergeAll(ctx, heads)
	if err != nil {
		t.Fatalf("failed to merge: %v", err)
	}
	if !m1.CID.Equals(m2.CID) || !m1.CID.Equals(m3.CID) {
		t.Fatalf("merges differ: %s, %s, %s", m1.CID, m2.CID, m3.CID)
	}
	v := devs[0]
	merged := m1.OpenTree(v)
	contents := readTree(t, v, merged)
	have := map[cid.Cid]bool{}
	for p, e := range treeEntries(t, merged) {
		if e.Kind != KindFile {
			continue
		}
		have[e.CID] = true
		if want, ok := written[e.CID]; !ok || contents[p] != want {
			t.Fatalf("%q holds %q, not what was written (%q)", p, contents[p], want)
		}
	}
	inBase := map[cid.Cid]bool{}
	for _, e := range treeEntries(t, base.OpenTree(v)) {
		inBase[e.CID] = true
	}
	for _, h := range heads {
		for p, e := range treeEntries(t, h.OpenTree(v)) {
			if e.Kind == KindFile && !inBase[e.CID] && !have[e.CID] {
				t.Fatalf("the merge lost %q of a head", p)
			}
		}
	}
	// The merged snapshot's blocks are all stored and read back the same.
	if s, err := v.OpenSnapshot(ctx, m1.CID); err != nil || !bytes.Equal(s.RootKey[:], m1.RootKey[:]) {
		t.Fatalf("failed to open the merge: %v", err)
	}
}
