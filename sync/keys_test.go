package sync

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

// TestRemovalRotatesKeys: removing a device rotates the account's keys.
// The other device takes in the new epoch from the root and reads what is
// written after; the removed device's keys (the root secret, every folder
// key it saw) open what was written before and nothing written after,
// though its blocks are at hand; a restart keeps the epoch; a device
// restored from the phrase alone says what it lacks, and one restored
// with the phrase and the recovery key reads everything.
func TestRemovalRotatesKeys(t *testing.T) {
	ctx := context.Background()
	a := startDevice(t, nil)
	b := startDevice(t, a.r.AccountSecret, a.node.AddrInfo())
	gone := startDevice(t, a.r.AccountSecret, a.node.AddrInfo(), b.node.AddrInfo())
	before := gone.add(t, "before.txt", 100)
	b.add(t, "b-before.txt", 100)
	waitUntil(t, 30*time.Second, "the file on every device", func() bool {
		return a.has("before.txt", before) && b.has("before.txt", before)
	})
	waitUntil(t, 30*time.Second, "the devices knowing each other", func() bool {
		return a.svc.isDevice(gone.node.Host().ID()) && b.svc.isDevice(gone.node.Host().ID()) && a.svc.isDevice(b.node.Host().ID())
	})
	oldHead := a.acct.Head().CID
	goneID := gone.node.Host().ID()
	if err := gone.close(); err != nil {
		t.Fatal(err)
	}

	if _, err := a.svc.RemoveDevice(ctx, goneID); err != nil {
		t.Fatal(err)
	}
	e := a.acct.Keys().Epoch()
	if e.N != 1 {
		t.Fatalf("a is at key epoch %d after a removal, want 1", e.N)
	}
	waitUntil(t, 30*time.Second, "b taking in the new keys", func() bool { return b.acct.Keys().Epoch() == e })
	after := a.add(t, "after.txt", 100)
	waitUntil(t, 30*time.Second, "a's change on b", func() bool { return b.has("after.txt", after) })
	fromB := b.add(t, "from-b.txt", 100)
	waitUntil(t, 30*time.Second, "b's change on a", func() bool { return a.has("from-b.txt", fromB) })

	// The removed device's keys, over a's blocks.
	removed, err := vault.AccountFromSecret(gone.r.AccountSecret)
	if err != nil {
		t.Fatal(err)
	}
	rv := vault.New(removed, vault.LocalBlocks(a.store.Blockstore()))
	if _, err := rv.OpenSnapshot(ctx, oldHead); err != nil {
		t.Fatalf("the removed device's keys do not open the head of before: %v", err)
	}
	head := a.acct.Head()
	if _, err := rv.OpenSnapshot(ctx, head.CID); !errors.Is(err, vault.ErrWrongKey) {
		t.Fatalf("the removed device's keys opened the head written after its removal: %v", err)
	}
	oldRoot, err := vault.New(removed, vault.LocalBlocks(a.store.Blockstore())).OpenSnapshot(ctx, oldHead)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rv.OpenTree(head.Tree, oldRoot.RootKey).List(ctx, "/"); !errors.Is(err, vault.ErrWrongKey) {
		t.Fatalf("the root folder key of before listed the tree of after: %v", err)
	}
	for _, name := range []string{"after.txt", "from-b.txt"} {
		e, err := a.acct.Head().OpenTree(a.acct.Vault()).Stat(ctx, "/"+name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rv.OpenFile(ctx, e.CID, name); !errors.Is(err, vault.ErrWrongKey) {
			t.Fatalf("the removed device's keys opened %s: %v", name, err)
		}
	}

	// b restarted keeps the epoch (it opens its head at start).
	if err := b.close(); err != nil {
		t.Fatal(err)
	}
	b2 := startRepo(t, b.r, a.node.AddrInfo())
	if b2.acct.Keys().Epoch() != e {
		t.Fatal("b forgot the key epoch in a restart")
	}
	if !b2.has("after.txt", after) {
		t.Fatal("b restarted does not read what was written after the removal")
	}

	// Restored from the phrase alone: it says what it lacks.
	phraseOnly := startDevice(t, a.r.AccountSecret, a.node.AddrInfo())
	waitUntil(t, 30*time.Second, "the phrase-only device noticing the keys it lacks", func() bool {
		return errors.Is(phraseOnly.svc.KeysMissing(), vault.ErrNotGiven)
	})
	if phraseOnly.has("after.txt", after) {
		t.Fatal("a device with the phrase alone read what was written after the removal")
	}

	// Restored with the phrase and the recovery key: everything.
	key, err := vault.ParseRecoveryKey(e.RecoveryKey())
	if err != nil {
		t.Fatal(err)
	}
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	r, err := repo.Init(t.TempDir(), cfg, a.r.AccountSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WriteEpochs(vault.MarshalEpochs([]vault.Epoch{key})); err != nil {
		t.Fatal(err)
	}
	restored := startRepo(t, r, a.node.AddrInfo())
	waitUntil(t, 30*time.Second, "the restored device reading everything", func() bool {
		return restored.has("after.txt", after) && restored.has("from-b.txt", fromB) && restored.has("before.txt", before)
	})
}

// TestRotationsAtOnce: two devices that rotate the keys at once end with
// the same newest epoch, and both hold the other's, so what each wrote
// under its own is read on the other.
func TestRotationsAtOnce(t *testing.T) {
	ctx := context.Background()
	a, b := devicePair(t)
	a.add(t, "a0.txt", 10)
	b.add(t, "b0.txt", 10)
	waitUntil(t, 30*time.Second, "a and b knowing each other", func() bool {
		return a.svc.isDevice(b.node.Host().ID()) && b.svc.isDevice(a.node.Host().ID())
	})
	// Rotated one right after the other: usually before either has the
	// other's root.
	if _, err := a.svc.rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.rotate(ctx); err != nil {
		t.Fatal(err)
	}
	fromA := a.add(t, "a.txt", 100)
	fromB := b.add(t, "b.txt", 100)
	waitUntil(t, 30*time.Second, "both files on both devices", func() bool {
		return a.has("b.txt", fromB) && b.has("a.txt", fromA) && a.has("a.txt", fromA) && b.has("b.txt", fromB)
	})
	waitUntil(t, 30*time.Second, "one newest epoch", func() bool {
		return a.acct.Keys().Epoch() == b.acct.Keys().Epoch() && len(a.acct.Keys().Epochs()) == len(b.acct.Keys().Epochs())
	})
	if n := len(a.acct.Keys().Epochs()); n < 2 {
		t.Fatalf("a holds %d epochs, want both made at once", n)
	}
}
