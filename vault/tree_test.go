package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"testing"
	"time"
)

func putSmall(t testing.TB, v *Vault, tr *Tree, p, content string) *FileVersion {
	t.Helper()
	ctx := context.Background()
	prev := Entry{}
	if e, err := tr.Stat(ctx, p); err == nil {
		prev = e
	}
	fv, err := v.WriteFile(ctx, bytes.NewReader([]byte(content)), FileInput{Name: path.Base(p), Prev: prev.CID, Mtime: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.PutFile(ctx, p, fv); err != nil {
		t.Fatal(err)
	}
	return fv
}

func names(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

func TestTreeOperations(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	v := New(testAccount(t, 1), mem)
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	putSmall(t, v, tr, "/docs/a.txt", "a")
	putSmall(t, v, tr, "/docs/b.txt", "b")
	if err := tr.Mkdir(ctx, "/empty", false, 0); err != nil {
		t.Fatal(err)
	}
	if err := tr.Mkdir(ctx, "/empty", false, 0); !errors.Is(err, ErrExist) {
		t.Fatalf("mkdir twice: %v", err)
	}
	s1, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	// Reopen from the stored snapshot: nothing depends on memory.
	s1b, err := v.OpenSnapshot(ctx, s1.CID)
	if err != nil {
		t.Fatal(err)
	}
	tr = s1b.OpenTree(v)
	es, err := tr.List(ctx, "/docs")
	if err != nil || !slices.Equal(names(es), []string{"a.txt", "b.txt"}) {
		t.Fatalf("ls /docs = %v, %v", names(es), err)
	}
	if err := tr.Move(ctx, "/docs/a.txt", "/empty"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Move(ctx, "/docs", "/papers"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Move(ctx, "/papers", "/papers/x"); err == nil {
		t.Fatal("moved a folder into itself")
	}
	if _, err := tr.Remove(ctx, "/papers/b.txt"); err != nil {
		t.Fatal(err)
	}
	if err := tr.PutFile(ctx, "/papers", &FileVersion{}); !errors.Is(err, ErrExist) {
		t.Fatalf("file over folder: %v", err)
	}
	s2, err := v.Commit(ctx, tr, s1b)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Seq != 2 || len(s2.Parents) != 1 {
		t.Fatalf("seq %d parents %v", s2.Seq, s2.Parents)
	}
	tr = v.OpenTree(s2.Tree, s2.RootKey)
	es, _ = tr.List(ctx, "/")
	if !slices.Equal(names(es), []string{"empty", "papers"}) {
		t.Fatalf("ls / = %v", names(es))
	}
	es, _ = tr.List(ctx, "/empty")
	if !slices.Equal(names(es), []string{"a.txt"}) {
		t.Fatalf("ls /empty = %v", names(es))
	}
	if _, err := tr.Stat(ctx, "/papers/b.txt"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("removed file: %v", err)
	}
	e, _ := tr.Stat(ctx, "/empty/a.txt")
	fv, err := v.OpenFile(ctx, e.CID, "/empty/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := v.ReadRange(ctx, fv, &out, 0, -1); err != nil || out.String() != "a" {
		t.Fatalf("read %q, %v", out.String(), err)
	}
	for _, bad := range []string{"rel", "/a/../b", "/a//b", "/a\x00b"} {
		if _, err := tr.Stat(ctx, bad); err == nil || errors.Is(err, ErrNotExist) {
			t.Errorf("path %q: %v", bad, err)
		}
	}
}

// TestShardedFolder fills one folder past the leaf limit and back: the
// shape depends on the names alone, and every name stays found.
func TestShardedFolder(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	v := New(testAccount(t, 1), mem)
	tr, _ := v.NewTree()
	key := [32]byte{1}
	const n = 3 * leafMax
	for i := range n {
		if err := tr.Put(ctx, fmt.Sprintf("/big/f%05d", i), Entry{Kind: KindFile, CID: mustCID(t, i).Cid, Key: key}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr = s.OpenTree(v)
	es, err := tr.List(ctx, "/big")
	if err != nil || len(es) != n {
		t.Fatalf("listed %d of %d: %v", len(es), n, err)
	}
	if !slices.IsSortedFunc(es, func(a, b Entry) int { return bytes.Compare([]byte(a.Name), []byte(b.Name)) }) {
		t.Fatal("not sorted")
	}
	for i := 0; i < n; i += 97 {
		if _, err := tr.Stat(ctx, fmt.Sprintf("/big/f%05d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Remove down to below the limit: the folder collapses to one node.
	for i := range n - 10 {
		if _, err := tr.Remove(ctx, fmt.Sprintf("/big/f%05d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s2, err := v.Commit(ctx, tr, s)
	if err != nil {
		t.Fatal(err)
	}
	tr = s2.OpenTree(v)
	e, _ := tr.Stat(ctx, "/big")
	d := v.storedDir(e.CID, e.Key, "/big")
	if err := d.load(ctx); err != nil || d.isShard() || d.count != 10 {
		t.Fatalf("after removals: shard %v count %d err %v", d.isShard(), d.count, err)
	}
}

func mustCID(t testing.TB, i int) Link {
	c, err := rawPrefix.Sum([]byte(fmt.Sprint(i)))
	if err != nil {
		t.Fatal(err)
	}
	return Link{c}
}

func TestHistory(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	clock := time.Unix(1000, 0)
	v := New(testAccount(t, 1), mem, WithClock(func() time.Time { clock = clock.Add(time.Second); return clock }), WithDevice("dev1"))
	tr, _ := v.NewTree()
	var head *Snapshot
	commit := func() {
		s, err := v.Commit(ctx, tr, slices.DeleteFunc([]*Snapshot{head}, func(s *Snapshot) bool { return s == nil })...)
		if err != nil {
			t.Fatal(err)
		}
		head = s
	}
	putSmall(t, v, tr, "/n.txt", "one")
	commit()
	putSmall(t, v, tr, "/n.txt", "two")
	commit()
	putSmall(t, v, tr, "/other", "x")
	commit()
	if _, err := tr.Remove(ctx, "/n.txt"); err != nil {
		t.Fatal(err)
	}
	commit()
	log, err := v.Log(ctx, head.CID, 0)
	if err != nil || len(log) != 4 || log[0].CID != head.CID || log[3].Seq != 1 {
		t.Fatalf("log %d entries, %v", len(log), err)
	}
	vs, err := v.Versions(ctx, head.CID, "/n.txt")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, fv := range vs {
		var b bytes.Buffer
		if err := v.ReadRange(ctx, fv, &b, 0, -1); err != nil {
			t.Fatal(err)
		}
		got = append(got, b.String())
	}
	if !slices.Equal(got, []string{"two", "one"}) || vs[0].Device != "dev1" {
		t.Fatalf("versions of a deleted file: %v", got)
	}
	if _, err := v.Versions(ctx, head.CID, "/never"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("versions of a path never there: %v", err)
	}
}
