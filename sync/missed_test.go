package sync

import (
	"context"
	"testing"
	"time"

	"github.com/peer-cloud/peer/vault"
)

// TestMergeFetchesWhatItLacks: a block of this device's own history is
// lost from its disk (the walk takes history as complete, so it does not
// fetch it), and a merge then needs it: the follower fetches it from the
// other device and the merge goes through, instead of the device staying
// on its head for good.
func TestMergeFetchesWhatItLacks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := devicePair(t)
	x := a.add(t, "x", 1000)
	waitUntil(t, 20*time.Second, "b taking x", func() bool { return b.has("x", x) })
	base := b.acct.Head()

	// Both change apart: b offline.
	if err := b.close(); err != nil {
		t.Fatal(err)
	}
	z := a.add(t, "z", 1000)
	// a stops following, so b makes the merge; a's node still serves
	// blocks and a's record.
	head := a.acct.Head().CID
	waitUntil(t, 10*time.Second, "a publishing z", func() bool {
		lr := a.svc.Status().LastRoot
		if !lr.Defined() {
			return false
		}
		vr, err := vault.ReadRoot(ctx, a.acct.Vault().Blocks(), lr)
		return err == nil && vr.Head.Equals(head)
	})
	a.svc.Close()
	a.svc = nil
	b = startRepo(t, b.r)
	y := b.add(t, "y", 1000)
	// The common ancestor's root folder, which the merge reads, is lost.
	if err := b.store.Blockstore().DeleteBlock(ctx, base.Tree); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.store.Blockstore().Has(ctx, base.Tree); ok {
		t.Fatal("the block is still there")
	}
	if err := b.node.Connect(ctx, a.node.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "b merging", func() bool { return b.has("x", x) && b.has("y", y) && b.has("z", z) })
	if ok, _ := b.store.Blockstore().Has(ctx, base.Tree); !ok {
		t.Fatal("b merged without the common ancestor's root folder")
	}
}
