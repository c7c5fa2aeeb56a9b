package namesys_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	psrouter "github.com/libp2p/go-libp2p-pubsub-router"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
)

func value(t *testing.T, s string) path.Path {
	t.Helper()
	c, err := cid.V1Builder{Codec: cid.DagCBOR, MhType: multihash.SHA2_256}.Sum([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return path.FromCid(c)
}

func system(t *testing.T, n *p2p.Node) *namesys.System {
	t.Helper()
	s, err := namesys.New(t.Context(), n.Host(), n.DHT(), n.PubSub(), n.Store().Namespace("namesys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// pair makes two connected nodes whose name systems both follow name, and
// returns once the name's topic has a peer on a's side.
func pair(t *testing.T, name peer.ID) (a, b *namesys.System, bRecords <-chan namesys.Record) {
	t.Helper()
	na := p2p.TestNode(t, blockstore.ProfileDefault)
	nb := p2p.TestNode(t, blockstore.ProfileDefault)
	a, b = system(t, na), system(t, nb)
	if err := nb.Connect(t.Context(), na.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Watch(t.Context(), name); err != nil {
		t.Fatal(err)
	}
	ch, err := b.Watch(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	topic := psrouter.KeyToTopic(string(ipns.NameFromPeer(name).RoutingKey()))
	for i := 0; len(na.PubSub().ListPeers(topic)) == 0; i++ {
		if i == 500 {
			t.Fatal("no pubsub peer on the name's topic after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return a, b, ch
}

func key(t *testing.T) (crypto.PrivKey, peer.ID) {
	t.Helper()
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(sk)
	return sk, id
}

func TestPublishReachesPeer(t *testing.T) {
	sk, name := key(t)
	a, b, records := pair(t, name)
	p, err := a.Publish(t.Context(), sk, value(t, "one"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Seq != 1 || p.PubsubPeers != 1 {
		t.Fatalf("published %+v", p)
	}
	select {
	case r := <-records:
		if r.Seq != 1 || r.Value.String() != value(t, "one").String() {
			t.Fatalf("received %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the record did not arrive over pubsub")
	}
	r, err := b.Resolve(t.Context(), name, 5*time.Second)
	if err != nil || r.Seq != 1 {
		t.Fatalf("resolved %+v, %v", r, err)
	}
	// Any node holding a valid record may put it again (donors will).
	if err := b.Republish(t.Context(), name); err != nil {
		t.Fatalf("republishing another's record: %v", err)
	}
}

// TestForgedRecordsChangeNothing: records for the name signed by another
// key, expired, or older than the one held, sent by a hostile peer
// straight onto the topic, are refused or lose; the next genuine record
// still gets through.
func TestForgedRecordsChangeNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sk, name := key(t)
	a, b, records := pair(t, name)
	for _, v := range []string{"v1", "v2"} {
		if _, err := a.Publish(ctx, sk, value(t, v)); err != nil {
			t.Fatal(err)
		}
	}
	waitSeq(t, records, 2)
	// The hostile peer: a third node speaking pubsub directly.
	nb := b.Host()
	c := p2p.TestNode(t, blockstore.ProfileDefault)
	if err := c.Connect(ctx, peer.AddrInfo{ID: nb.ID(), Addrs: nb.Addrs()}); err != nil {
		t.Fatal(err)
	}
	topic, err := c.PubSub().Join(psrouter.KeyToTopic(string(ipns.NameFromPeer(name).RoutingKey())))
	if err != nil {
		t.Fatal(err)
	}
	// Publishing waits for mesh peers, which needs a subscription.
	if _, err := topic.Subscribe(); err != nil {
		t.Fatal(err)
	}
	other, _ := key(t)
	older, _ := ipns.NewRecord(sk, value(t, "old"), 1, time.Now().Add(time.Hour), time.Minute)
	wrongKey, _ := ipns.NewRecord(other, value(t, "forged"), 99, time.Now().Add(time.Hour), time.Minute)
	expired, _ := ipns.NewRecord(sk, value(t, "expired"), 100, time.Now().Add(-time.Hour), time.Minute)
	for _, rec := range []*ipns.Record{wrongKey, expired, older} {
		raw, _ := ipns.MarshalRecord(rec)
		if err := topic.Publish(ctx, raw, pubsub.WithReadiness(pubsub.MinTopicSize(1))); err != nil {
			t.Fatal(err)
		}
	}
	// The genuine publisher goes on; b must end at its record, whatever
	// order the hostile ones arrive in, and never take a forged one.
	if _, err := a.Publish(ctx, sk, value(t, "v3")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var r namesys.Record
	for time.Now().Before(deadline) {
		r, err = b.Local(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if r.Seq == 3 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Give late hostile messages a moment, then check nothing moved.
	time.Sleep(300 * time.Millisecond)
	if r, err = b.Local(ctx, name); err != nil || r.Seq != 3 || r.Value.String() != value(t, "v3").String() {
		t.Fatalf("after forged records, b holds seq %d %s (%v)", r.Seq, r.Value, err)
	}
	for {
		select {
		case got := <-records:
			if got.Value.String() == value(t, "forged").String() || got.Seq > 3 {
				t.Fatalf("b heard a forged record as valid: %+v", got)
			}
		default:
			return
		}
	}
}

// TestSequenceSurvivesRestart: a node that restarts publishes a higher
// sequence number than before, even with no peer to remind it.
func TestSequenceSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sk, _ := key(t)
	var last uint64
	for round := range 2 {
		st, err := blockstore.Open(ctx, dir, blockstore.ProfileDefault, nil)
		if err != nil {
			t.Fatal(err)
		}
		id, _, _ := crypto.GenerateEd25519Key(rand.Reader)
		n, err := p2p.New(ctx, p2p.Config{Identity: id, Store: st, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}})
		if err != nil {
			t.Fatal(err)
		}
		s := system(t, n)
		p, err := s.Publish(ctx, sk, value(t, "x"))
		if err != nil {
			t.Fatal(err)
		}
		if p.Seq <= last {
			t.Fatalf("round %d published seq %d after %d", round, p.Seq, last)
		}
		last = p.Seq
		n.Close()
		st.Close()
	}
}

// waitSeq waits (up to 20 s) until a record with seq arrives.
func waitSeq(t *testing.T, records <-chan namesys.Record, seq uint64) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case r := <-records:
			if r.Seq == seq {
				return
			}
		case <-timeout:
			t.Fatalf("no record with seq %d within 20 s", seq)
		}
	}
}
