package vault

import (
	"bytes"
	"context"
	"path"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// readTree lists every folder of t and reads every file, checking each
// name as the tree checks a user's; it returns each file's content by path.
func readTree(t testing.TB, v *Vault, tr *Tree) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	var walk func(p string)
	walk = func(p string) {
		es, err := tr.List(ctx, p)
		if err != nil {
			t.Fatalf("failed to list %s of the merge: %v", p, err)
		}
		for _, e := range es {
			if err := checkName(e.Name); err != nil {
				t.Fatalf("the merge wrote a name the tree refuses: %v", err)
			}
			cp := path.Join(p, e.Name)
			if e.Kind == KindDir {
				walk(cp)
				continue
			}
			fv, err := v.OpenFileWithKey(ctx, e.CID, e.Key, cp)
			if err != nil {
				t.Fatalf("failed to open %q of the merge: %v", cp, err)
			}
			var b bytes.Buffer
			if err := v.ReadRange(ctx, fv, &b, 0, -1); err != nil {
				t.Fatalf("failed to read %q of the merge: %v", cp, err)
			}
			out[cp] = b.String()
		}
	}
	walk("/")
	return out
}

// conflictPair makes a base holding files, edits each on two devices with
// fixed clocks (B's later, so A's edits lose and are renamed), and merges
// both ways round.
func conflictPair(t *testing.T, files ...string) (*Vault, *Snapshot) {
	t.Helper()
	ctx := context.Background()
	mem := newMem()
	acct := testAccount(t, 1)
	at := func(s int64) func() time.Time { return func() time.Time { return time.Unix(s, 0) } }
	devA := New(acct, mem, WithDevice("12D3KooWdeviceAAAAAAA"), WithClock(at(2000)))
	devB := New(acct, mem, WithDevice("12D3KooWdeviceBBBBBBB"), WithClock(at(3000)))
	tr, _ := devA.NewTree()
	for _, f := range files {
		putSmall(t, devA, tr, "/"+f, "base")
	}
	base, err := devA.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := base.OpenTree(devA), base.OpenTree(devB)
	for _, f := range files {
		putSmall(t, devA, ta, "/"+f, "A "+f)
		putSmall(t, devB, tb, "/"+f, "B "+f)
	}
	headA, err := devA.Commit(ctx, ta, base)
	if err != nil {
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
	return devA, m1
}

// TestMergeLongNames: conflicts of files whose names are near the limit
// (two-byte characters, an extension, names that differ only at one end)
// leave a folder every device can read, with every edit kept under a
// name that keeps the whole conflict suffix.
func TestMergeLongNames(t *testing.T) {
	e127 := strings.Repeat("é", 127)           // 254 bytes
	ext := strings.Repeat("é", 125) + ".txt"   // 254 bytes
	startA := "a" + strings.Repeat("x", 254)   // differ only at the start
	startB := "b" + strings.Repeat("x", 254)   //
	endA := strings.Repeat("y", 254) + "a"     // differ only at the end
	endB := strings.Repeat("y", 254) + "b"     //
	longExt := "z." + strings.Repeat("é", 126) // 254 bytes, all extension
	files := []string{e127, ext, startA, startB, endA, endB, longExt}
	v, m := conflictPair(t, files...)
	got := readTree(t, v, m.OpenTree(v))
	kept := map[string]string{}
	for p, c := range got {
		kept[c] = p
		n := path.Base(p)
		if !utf8.ValidString(n) || len(n) > MaxNameBytes {
			t.Fatalf("bad name %q", n)
		}
	}
	for _, f := range files {
		if got["/"+f] != "B "+f {
			t.Errorf("%.20q... holds %.20q, want B's edit", f, got["/"+f])
		}
		p, ok := kept["A "+f]
		if !ok {
			t.Errorf("A's edit of %.20q... was lost in the merge", f)
			continue
		}
		if !strings.Contains(p, ".sync-conflict-19700101-003320-AAAAAAA") {
			t.Errorf("conflict copy %q lost its suffix", p)
		}
		if f == ext && !strings.HasSuffix(p, ".txt") {
			t.Errorf("conflict copy %q lost its extension", p)
		}
	}
	if len(got) != 2*len(files) {
		t.Errorf("merge holds %d files, want %d", len(got), 2*len(files))
	}
}
