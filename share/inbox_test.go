package share

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/vault"
)

type inboxNode struct {
	h     host.Host
	v     *vault.Vault
	state *State
	in    *Inbox
}

func newInboxNode(t *testing.T, contact func(string) bool) *inboxNode {
	t.Helper()
	ctx := t.Context()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ps, err := pubsub.NewGossipSub(ctx, h, pubsub.WithFloodPublish(true), pubsub.WithMaxMessageSize(1<<20), pubsub.WithValidateThrottle(64), pubsub.WithValidateQueueSize(64))
	if err != nil {
		t.Fatal(err)
	}
	acct, err := vault.NewAccount(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := dssync.MutexWrap(ds.NewMapDatastore())
	v := vault.New(acct, vault.LocalBlocks(bstore.NewBlockstore(d)))
	st, err := Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	in, err := StartInbox(ctx, InboxConfig{PubSub: ps, Vault: v, Key: acct.SigningKey(), DS: d, State: st, Contact: contact})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return &inboxNode{h: h, v: v, state: st, in: in}
}

// TestInboxDelivers: an envelope sent to an account's inbox topic over
// real gossipsub is kept by that account and opens to the file's link.
func TestInboxDelivers(t *testing.T) {
	ctx := t.Context()
	a, b := newInboxNode(t, nil), newInboxNode(t, nil)
	if err := a.h.Connect(ctx, peer.AddrInfo{ID: b.h.ID(), Addrs: b.h.Addrs()}); err != nil {
		t.Fatal(err)
	}
	fv, err := a.v.WriteFile(ctx, bytes.NewReader([]byte("hello b")), vault.FileInput{Name: "hi.txt", Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	e := vault.Entry{Name: "hi.txt", Kind: vault.KindFile, CID: fv.CID, Key: fv.Key, Size: fv.Size}
	blk, err := a.v.WriteEnvelope(ctx, nil, e, [][32]byte{b.v.Account().BoxPublic()}, []string{b.v.Account().ID()}, time.Now().UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.state.AddSent(ctx, vault.Sent{CID: blk.Cid(), Recipients: []string{b.v.Account().ID()}, Made: time.Now().UnixNano()}); err != nil {
		t.Fatal(err)
	}
	came := b.in.Watch()
	// Sent once the topic knows b (it joins at once; the resend on its
	// join delivers it even if this first send finds nobody).
	if err := a.in.Send(ctx, b.v.Account().ID(), blk); err != nil {
		t.Fatal(err)
	}
	select {
	case <-came:
	case <-time.After(20 * time.Second):
		t.Fatal("the envelope did not come within 20 s")
	}
	list, err := b.in.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("inbox: %v, %v", list, err)
	}
	if r := list[0]; r.From != a.v.Account().ID() || r.Version != fv.CID || r.Key != fv.Key || r.Name != "hi.txt" || r.Contact {
		t.Fatalf("kept %+v", r)
	}
}
