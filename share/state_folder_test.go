package share_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/share"
	"github.com/peer-cloud/peer/vault"
)

// A following share of a folder gives a copy of it, under keys of the
// share's, that changes when the folder does; an end gives nothing.
func TestRootSharesFollowFolder(t *testing.T) {
	ctx := context.Background()
	td := newTwoDevices(t)
	f, err := td.d1.Add(ctx, secretReader(4), "/docs", 0)
	if err != nil {
		t.Fatal(err)
	}
	r := rootOf(t, td.d1, td.v1, td.tr)
	got, err := share.Followed(ctx, td.v1.Blocks(), r, f.Secret, td.c.now())
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := td.tr.Stat(ctx, "/docs")
	if got.Kind != vault.KindDir || got.Name != "docs" || got.Key == docs.Key {
		t.Fatalf("the share gives %+v", got)
	}
	op, err := share.OpenTarget(ctx, vault.New(testAccount(t, 9), td.v1.Blocks()), got.CID, got.Key)
	if err != nil || op.Folder == nil {
		t.Fatalf("open the folder: %+v, %v", op, err)
	}
	if e, err := op.Folder.Stat(ctx, "/report.pdf"); err != nil || e.Kind != vault.KindFile {
		t.Fatalf("report in the shared folder: %v", err)
	}
	// Device 2 writes the same share node for the same tree.
	learn(t, td.d2, td.v2, r)
	if r2 := rootOf(t, td.d2, td.v2, td.tr); r2.Shares[0] != r.Shares[0] {
		t.Fatal("the devices wrote different share nodes for one folder share")
	}
	// A new file in the folder: a new copy, which the first's key does not open.
	fv, err := td.v1.WriteFile(ctx, strings.NewReader("new\n"), vault.FileInput{Name: "new.txt", Mtime: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := td.tr.PutFile(ctx, "/docs/new.txt", fv); err != nil {
		t.Fatal(err)
	}
	if _, err := td.v1.Commit(ctx, td.tr); err != nil {
		t.Fatal(err)
	}
	next, err := share.Followed(ctx, td.v1.Blocks(), rootOf(t, td.d1, td.v1, td.tr), f.Secret, td.c.now())
	if err != nil {
		t.Fatal(err)
	}
	if next.CID == got.CID || next.Key == got.Key {
		t.Fatal("the folder changed and the share gives the same copy")
	}
	if _, err := share.OpenTarget(ctx, td.v1, next.CID, got.Key); err == nil {
		t.Fatal("the first copy's key opens the next")
	}
	if _, err := td.d1.End(ctx, bySecret(f.Secret)); err != nil {
		t.Fatal(err)
	}
	if _, err := share.Followed(ctx, td.v1.Blocks(), rootOf(t, td.d1, td.v1, td.tr), f.Secret, td.c.now()); err == nil || !strings.Contains(err.Error(), "ended") {
		t.Fatalf("after the end: %v", err)
	}
}

// A version link's share is listed with its copy, kept across restarts,
// learnt by the other device (which is told, to fetch the copy), and
// lists nothing once ended.
func TestVersionShare(t *testing.T) {
	ctx := context.Background()
	td := newTwoDevices(t)
	var told []vault.FollowShare
	d := newDatastore()
	s1, err := share.Open(ctx, d, share.WithClock(td.c.now))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := share.Open(ctx, newDatastore(), share.WithClock(td.c.now), share.WithVersionShared(func(f vault.FollowShare) { told = append(told, f) }))
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := td.tr.Stat(ctx, "/docs")
	secret, err := share.NewSecret(secretReader(6))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := td.v1.CopyFolder(ctx, secret, docs.CID, docs.Key, "/docs", map[cid.Cid]vault.Entry{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := s1.AddVersion(ctx, secret, "/docs", cp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.AddVersion(ctx, secret, "/docs", cp); err == nil {
		t.Fatal("the same secret was taken twice")
	}
	// The path changing does not change what a version share gives.
	if _, err := td.tr.Remove(ctx, "/docs"); err != nil {
		t.Fatal(err)
	}
	if _, err := td.v1.Commit(ctx, td.tr); err != nil {
		t.Fatal(err)
	}
	r := rootOf(t, s1, td.v1, td.tr)
	got, err := share.Followed(ctx, td.v1.Blocks(), r, secret, td.c.now())
	if err != nil || got.CID != cp.CID || got.Key != cp.Key || got.Kind != vault.KindDir {
		t.Fatalf("the version share gives %+v, %v", got, err)
	}
	if reopened := openState(t, d, td.c); reopened.List()[0] != f {
		t.Fatalf("after reopening: %+v, want %+v", reopened.List()[0], f)
	}
	learn(t, s2, td.v2, r)
	if len(told) != 1 || told[0] != f {
		t.Fatalf("device 2 was told of %+v", told)
	}
	learn(t, s2, td.v2, r)
	if len(told) != 1 {
		t.Fatal("device 2 was told twice")
	}
	if _, err := s1.End(ctx, bySecret(secret)); err != nil {
		t.Fatal(err)
	}
	if _, err := share.Followed(ctx, td.v1.Blocks(), rootOf(t, s1, td.v1, td.tr), secret, td.c.now()); err == nil {
		t.Fatal("an ended version share still gives its copy")
	}
}
