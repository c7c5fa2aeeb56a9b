package donor_test

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/donor"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
)

// TestNameStaysAlive: with the owner's device gone, a node that never
// heard of the account (DHT only, no pubsub) resolves its newest record
// from the donor alone, valid for namesys.Validity; and the donor keeps
// putting it again.
func TestNameStaysAlive(t *testing.T) {
	a := startDevice(t, nil)
	dn := startDonor(t, nil, donor.Config{Accounts: []peer.ID{a.id()}, Republish: 100 * time.Millisecond}, a.node.AddrInfo())
	a.write(t, "f", []byte("x"))
	head := a.head()
	st := dn.waitFor(t, "A's head", func(s donor.AccountStatus) bool { return s.Head == head })
	id := a.id()
	a.close()

	first := dn.waitFor(t, "a republish", func(s donor.AccountStatus) bool { return s.LastRepublish.After(st.LastChange) })
	dn.waitFor(t, "another republish", func(s donor.AccountStatus) bool { return s.LastRepublish.After(first.LastRepublish) })

	ctx := context.Background()
	store, err := blockstore.Open(ctx, t.TempDir(), blockstore.ProfileDefault, testLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	node, err := p2p.New(ctx, p2p.Config{Identity: newKey(t), Store: store, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, StaticPeers: []peer.AddrInfo{dn.node.AddrInfo()}, Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	ns, err := namesys.New(ctx, node.Host(), node.DHT(), nil, store.Namespace("namesys"), testLog())
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := node.WaitPeers(wctx, 1); err != nil {
		t.Fatal(err)
	}
	var r namesys.Record
	for range 50 { // the DHT's routing table fills just after connecting
		if r, err = ns.ResolveDHT(ctx, id, 2*time.Second); err == nil {
			break
		}
		<-time.After(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the name does not resolve from the donor alone: %v", err)
	}
	if r.Seq != st.Seq {
		t.Errorf("resolved record %d; the donor holds %d", r.Seq, st.Seq)
	}
	if left := time.Until(r.EOL); left < namesys.Validity-time.Minute {
		t.Errorf("the record is valid for %v more; want about %v", left, namesys.Validity)
	}
}
