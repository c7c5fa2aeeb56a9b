package sync

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"path"
	"testing"

	bstore "github.com/ipfs/boxo/blockstore"
	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/vault"
)

// walkSim takes a head from src into dst the way a fetch does, with
// newWalk choosing the links, and counts what it read and copied.
type walkSim struct {
	t        *testing.T
	src, dst bstore.Blockstore
	acct     *vault.Account
}

func (s *walkSim) sync(head cid.Cid, ours *vault.Snapshot) (walked, copied int) {
	s.t.Helper()
	ctx := context.Background()
	w := newNewWalk(ctx, vault.New(s.acct, vault.LocalBlocks(s.dst)), s.dst, ours)
	seen := cid.NewSet()
	seen.Add(head)
	stack := []cid.Cid{head}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		b, err := s.dst.Get(ctx, c)
		if ipld.IsNotFound(err) {
			if b, err = s.src.Get(ctx, c); err == nil {
				err = s.dst.Put(ctx, b)
				copied++
			}
		}
		if err != nil {
			s.t.Fatal(err)
		}
		walked++
		ls, err := w.links(b)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, l := range ls {
			if seen.Visit(l) {
				stack = append(stack, l)
			}
		}
	}
	// Every block of the head's DAG is in dst now.
	all := cid.NewSet()
	all.Add(head)
	stack = []cid.Cid{head}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		b, err := s.dst.Get(ctx, c)
		if err != nil {
			s.t.Fatalf("after taking in %s, block %s is missing: %v", head, c, err)
		}
		ls, err := blockstore.Links(b)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, l := range ls {
			if all.Visit(l) {
				stack = append(stack, l)
			}
		}
	}
	return walked, copied
}

func memStore() bstore.Blockstore {
	return bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
}

// TestNewWalk: taking in another device's changes walks what changed, not
// the history, and leaves every block of the new head local: one edit, a
// run of changes with a folder moved and one removed, and a merge with a
// branch this device made meanwhile.
func TestNewWalk(t *testing.T) {
	ctx := context.Background()
	acct, err := vault.NewAccount(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := &walkSim{t: t, src: memStore(), dst: memStore(), acct: acct}
	va := vault.New(acct, vault.LocalBlocks(s.src), vault.WithDevice("12D3KooWdeviceAAAAAAA"))
	vb := vault.New(acct, vault.LocalBlocks(s.dst), vault.WithDevice("12D3KooWdeviceBBBBBBB"))
	put := func(v *vault.Vault, tr *vault.Tree, p, content string) {
		t.Helper()
		prev := vault.Entry{}
		if e, err := tr.Stat(ctx, p); err == nil {
			prev = e
		}
		fv, err := v.WriteFile(ctx, bytes.NewReader([]byte(content)), vault.FileInput{Name: path.Base(p), Prev: prev.CID, Mtime: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.PutFile(ctx, p, fv); err != nil {
			t.Fatal(err)
		}
	}
	tr, _ := va.NewTree()
	for i := range 300 {
		put(va, tr, fmt.Sprintf("/d%02d/f%03d", i%10, i), fmt.Sprint("content ", i))
	}
	s1, err := va.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	walked, copied := s.sync(s1.CID, nil)
	t.Logf("first sync: walked %d, copied %d", walked, copied)
	if walked != copied {
		t.Fatalf("first sync walked %d blocks but copied %d", walked, copied)
	}

	// One edit.
	tr = s1.OpenTree(va)
	put(va, tr, "/d03/f003", "edited")
	s2, err := va.Commit(ctx, tr, s1)
	if err != nil {
		t.Fatal(err)
	}
	walked, copied = s.sync(s2.CID, s1)
	t.Logf("one edit: walked %d, copied %d", walked, copied)
	if walked > 8 {
		t.Errorf("one edit: walked %d blocks, want at most 8 (snapshot, root, folder, version, chunk, and their shards)", walked)
	}

	// Three more changes: a new file, a folder moved, a folder removed.
	tr = s2.OpenTree(va)
	put(va, tr, "/d01/new", "new")
	s3, _ := va.Commit(ctx, tr, s2)
	tr = s3.OpenTree(va)
	if err := tr.Move(ctx, "/d05", "/moved/d05"); err != nil {
		t.Fatal(err)
	}
	s4, _ := va.Commit(ctx, tr, s3)
	tr = s4.OpenTree(va)
	if _, err := tr.Remove(ctx, "/d07"); err != nil {
		t.Fatal(err)
	}
	s5, _ := va.Commit(ctx, tr, s4)
	walked, copied = s.sync(s5.CID, s2)
	t.Logf("three changes: walked %d, copied %d", walked, copied)
	if walked > 60 {
		t.Errorf("three changes: walked %d blocks, want at most 60 (the moved folder's 30 files are read again)", walked)
	}

	// This device changed s2 meanwhile; the other device merged both.
	tb := s2.OpenTree(vb)
	put(vb, tb, "/d09/mine", "mine")
	s2b, err := vb.Commit(ctx, tb, s2)
	if err != nil {
		t.Fatal(err)
	}
	back := &walkSim{t: t, src: s.dst, dst: s.src, acct: acct}
	back.sync(s2b.CID, s2)
	m, err := va.Merge(ctx, s5, s2b)
	if err != nil {
		t.Fatal(err)
	}
	walked, copied = s.sync(m.CID, s2b)
	t.Logf("merge: walked %d, copied %d", walked, copied)
	if copied > 12 {
		t.Errorf("merge: copied %d blocks, want at most 12", copied)
	}
}
