package account

import (
	"context"
	"crypto/rand"
	"testing"

	bstore "github.com/ipfs/boxo/blockstore"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/peer-cloud/peer/vault"
)

// TestRecorderSkipsRoots: a publication while a change is being recorded
// does not put its root among the change's blocks (the next announcement
// then held two roots, which every device refuses, cutting its sender
// off), while the change's own blocks are recorded.
func TestRecorderSkipsRoots(t *testing.T) {
	ctx := context.Background()
	acct, err := vault.NewAccount(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Blocks: vault.LocalBlocks(bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore())))}
	v := vault.New(acct, rec)
	tree, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	rec.start()
	if _, err := v.WriteRoot(ctx, vault.Root{Box: acct.BoxPublic()}); err != nil {
		t.Fatal(err)
	}
	s, err := v.Commit(ctx, tree)
	if err != nil {
		t.Fatal(err)
	}
	bs, ok := rec.stop()
	if !ok {
		t.Fatal("recording overflowed")
	}
	found := false
	for _, b := range bs {
		if kind, _ := vault.BlockKind(b.Cid(), b.RawData()); kind == "root" {
			t.Fatalf("the publication's root %s was recorded as part of a change", b.Cid())
		}
		found = found || b.Cid().Equals(s.CID)
	}
	if !found {
		t.Fatalf("the change's snapshot %s was not recorded (recorded %d blocks)", s.CID, len(bs))
	}
}
