package share

import (
	"crypto/rand"
	"log/slog"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/vault"
)

// TestInboxKeepsOnBadger: what keep stores over the real Badger store
// (in a namespace, as the daemon gives it) List returns, strangers apart
// and bounded by the hourly rate.
func TestInboxKeepsOnBadger(t *testing.T) {
	ctx := t.Context()
	store, err := blockstore.Open(ctx, t.TempDir(), blockstore.ProfileDefault, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	friend, stranger := newAccountID(t), newAccountID(t)
	in := &Inbox{cfg: InboxConfig{DS: store.Namespace("inbox"), Contact: func(a string) bool { return a == friend }, Log: nil},
		received: map[cid.Cid]bool{}, recent: map[string][]time.Time{}}
	in.cfg.Log = discardLog()
	env := func(i int, from string) vault.Envelope {
		c, _ := cid.V1Builder{Codec: cid.DagCBOR, MhType: 0x12}.Sum([]byte{byte(i), byte(i >> 8)})
		return vault.Envelope{CID: c, From: from, Version: c, Name: "f", Size: uint64(i), Time: int64(i)}
	}
	if err := in.keep(ctx, env(0, friend)); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= StrangerRate+5; i++ {
		if err := in.keep(ctx, env(i, stranger)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := in.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, contacts := 0, 0
	for _, r := range list {
		if r.Contact {
			contacts++
		} else {
			n++
		}
	}
	if contacts != 1 || n != StrangerRate {
		t.Fatalf("kept %d from the contact and %d from the stranger; want 1 and %d", contacts, n, StrangerRate)
	}
}

func newAccountID(t *testing.T) string {
	a, err := vault.NewAccount(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID()
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
