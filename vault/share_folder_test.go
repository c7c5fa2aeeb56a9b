package vault

import (
	"context"
	"errors"
	"fmt"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// sharedTree is a vault whose /docs holds a file and a subfolder.
func sharedTree(t *testing.T) (*Vault, *Tree, Entry) {
	t.Helper()
	v := New(testAccount(t, 1), badgerBlocks(t))
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	putSmall(t, v, tr, "/docs/a.txt", "a")
	putSmall(t, v, tr, "/docs/sub/b.txt", "b")
	putSmall(t, v, tr, "/other.txt", "o")
	if _, err := v.Commit(context.Background(), tr); err != nil {
		t.Fatal(err)
	}
	e, err := tr.Stat(context.Background(), "/docs")
	if err != nil {
		t.Fatal(err)
	}
	return v, tr, e
}

func TestCopyFolderOpensOnlyItself(t *testing.T) {
	ctx := context.Background()
	v, tr, docs := sharedTree(t)
	secret := [32]byte{7}
	cp, err := v.CopyFolder(ctx, secret, docs.CID, docs.Key, "/docs", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Key == docs.Key || cp.CID == docs.CID {
		t.Fatal("the copy has the folder's own key or node")
	}
	// A reader with the copy's key alone (a fresh vault of another
	// account over the same blocks) reads the folder and the files in it.
	reader := New(testAccount(t, 2), v.Blocks())
	got := reader.OpenTree(cp.CID, cp.Key)
	es, err := got.List(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(names(es)) != "[a.txt sub]" {
		t.Fatalf("copy lists %v", names(es))
	}
	orig, _ := tr.Stat(ctx, "/docs/a.txt")
	if es[0].CID != orig.CID || es[0].Key != orig.Key {
		t.Fatal("the copy's file entry is not the file's version")
	}
	b, err := got.Stat(ctx, "/sub/b.txt")
	if err != nil {
		t.Fatal(err)
	}
	fv, err := reader.OpenFileWithKey(ctx, b.CID, b.Key, "/sub/b.txt")
	if err != nil || fv.Size != 1 {
		t.Fatalf("file in the copy: %v", err)
	}
	sub, _ := tr.Stat(ctx, "/docs/sub")
	if es[1].Key == sub.Key {
		t.Fatal("the copy carries a subfolder's own key")
	}
	// The copy's key opens neither the original folder nor its next version.
	if _, err := reader.OpenTree(docs.CID, cp.Key).List(ctx, "/"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the copy's key on the original: %v", err)
	}
	// The same secret and folder give the same blocks (every device writes
	// the same share node); another secret gives another copy.
	again, err := v.CopyFolder(ctx, secret, docs.CID, docs.Key, "/docs", map[cid.Cid]Entry{})
	if err != nil || again != cp {
		t.Fatalf("copy again: %v, %v vs %v", err, again.CID, cp.CID)
	}
	other, err := v.CopyFolder(ctx, [32]byte{8}, docs.CID, docs.Key, "/docs", nil)
	if err != nil || other.CID == cp.CID || other.Key == cp.Key {
		t.Fatalf("another secret: %v", err)
	}
}

func TestCopyFolderNextVersion(t *testing.T) {
	ctx := context.Background()
	v, tr, docs := sharedTree(t)
	secret := [32]byte{9}
	memo := map[cid.Cid]Entry{}
	cp1, err := v.CopyFolder(ctx, secret, docs.CID, docs.Key, "/docs", memo)
	if err != nil {
		t.Fatal(err)
	}
	putSmall(t, v, tr, "/docs/a.txt", "a, changed")
	if _, err := v.Commit(ctx, tr); err != nil {
		t.Fatal(err)
	}
	docs2, _ := tr.Stat(ctx, "/docs")
	if docs2.Key != docs.Key {
		t.Fatal("the folder key changed: this test wants the stable key a copy protects")
	}
	cp2, err := v.CopyFolder(ctx, secret, docs2.CID, docs2.Key, "/docs", memo)
	if err != nil {
		t.Fatal(err)
	}
	if cp2.Key == cp1.Key {
		t.Fatal("the next version's copy has the first copy's key")
	}
	// What the first link's holder has does not open the second copy.
	if _, err := v.OpenTree(cp2.CID, cp1.Key).List(ctx, "/"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("first copy's key on the second copy: %v", err)
	}
	// The unchanged subfolder's copy is the same node in both.
	s1, _ := v.OpenTree(cp1.CID, cp1.Key).Stat(ctx, "/sub")
	s2, _ := v.OpenTree(cp2.CID, cp2.Key).Stat(ctx, "/sub")
	if s1.CID != s2.CID {
		t.Fatal("an unchanged subfolder was copied anew")
	}
}

func TestCopyFolderSharded(t *testing.T) {
	ctx := context.Background()
	v := New(testAccount(t, 1), badgerBlocks(t))
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	fv := putSmall(t, v, tr, "/big/0", "x")
	for i := 1; i < 1200; i++ {
		if err := tr.PutFile(ctx, fmt.Sprintf("/big/%d", i), fv); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Commit(ctx, tr); err != nil {
		t.Fatal(err)
	}
	big, _ := tr.Stat(ctx, "/big")
	cp, err := v.CopyFolder(ctx, [32]byte{1}, big.CID, big.Key, "/big", nil)
	if err != nil {
		t.Fatal(err)
	}
	es, err := v.OpenTree(cp.CID, cp.Key).List(ctx, "/")
	if err != nil || len(es) != 1200 {
		t.Fatalf("sharded copy lists %d: %v", len(es), err)
	}
	if _, err := v.OpenTree(cp.CID, cp.Key).Stat(ctx, "/1199"); err != nil {
		t.Fatal(err)
	}
}

func TestCopyFolderMissing(t *testing.T) {
	ctx := context.Background()
	v, _, docs := sharedTree(t)
	var wrong [32]byte
	_, err := v.CopyFolder(ctx, [32]byte{1}, docs.CID, wrong, "/docs", nil)
	var de *DamagedError
	if !errors.As(err, &de) {
		t.Fatalf("copy with a wrong key: %v", err)
	}
}

func TestShareGivesFolder(t *testing.T) {
	ctx := context.Background()
	v, _, docs := sharedTree(t)
	secret := [32]byte{3}
	cp, err := v.CopyFolder(ctx, secret, docs.CID, docs.Key, "/docs", nil)
	if err != nil {
		t.Fatal(err)
	}
	cp.Name = "docs"
	s := FollowShare{Secret: secret, Path: "/docs", Made: 5, Version: cp.CID, VersionKey: cp.Key}
	c, err := v.WriteShare(ctx, s, &cp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadShare(ctx, v.Blocks(), c, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != KindDir || got.CID != cp.CID || got.Key != cp.Key || got.Name != "docs" || got.Size != 0 {
		t.Fatalf("ReadShare = %+v", got)
	}
	owner, err := v.ShareOwner(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if owner != s {
		t.Fatalf("owner part = %+v, want %+v", owner, s)
	}
	// A body giving a kind other than a file or a folder is refused.
	n, err := readShareNode(ctx, v.Blocks(), c)
	if err != nil {
		t.Fatal(err)
	}
	key := shareKey(secret)
	blk, err := v.sealNode(&key, adShare, shareBody{Kind: "link", Key: cp.Key[:], Name: "docs"}, func(sealed []byte) bodiless {
		n.Body = sealed
		return *n
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Blocks().Put(ctx, []blocks.Block{blk}); err != nil {
		t.Fatal(err)
	}
	var de *DamagedError
	if _, err := ReadShare(ctx, v.Blocks(), blk.Cid(), secret); !errors.As(err, &de) {
		t.Fatalf("a share of kind \"link\": %v", err)
	}
}
