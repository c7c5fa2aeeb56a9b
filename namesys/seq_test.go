package namesys

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/p2p"
)

// TestPublishRefusesExhaustedSeq: the sequence number after 2^64-1 would
// wrap to 0, a record every peer drops as older; Publish must say so.
func TestPublishRefusesExhaustedSeq(t *testing.T) {
	ctx := context.Background()
	n := p2p.TestNode(t, blockstore.ProfileDefault)
	s, err := New(ctx, n.Host(), n.DHT(), n.PubSub(), n.Store().Namespace("namesys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := peer.IDFromPrivateKey(sk)
	c, err := cid.V1Builder{Codec: cid.DagCBOR, MhType: multihash.SHA2_256}.Sum([]byte("root"))
	if err != nil {
		t.Fatal(err)
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.MaxUint64-1)
	if err := s.ds.Put(ctx, seqKey(name), b[:]); err != nil {
		t.Fatal(err)
	}
	pub, err := s.Publish(ctx, sk, path.FromCid(c))
	if err != nil || pub.Seq != math.MaxUint64 {
		t.Fatalf("publish after 2^64-2: seq %d, %v; want 2^64-1", pub.Seq, err)
	}
	pub, err = s.Publish(ctx, sk, path.FromCid(c))
	if err == nil || !strings.Contains(err.Error(), "exhausted") {
		t.Fatalf("publish after 2^64-1: seq %d, error %v; want one saying the sequence is exhausted", pub.Seq, err)
	}
	got, err := s.ds.Get(ctx, seqKey(name))
	if err != nil || binary.BigEndian.Uint64(got) != math.MaxUint64 {
		t.Fatalf("stored sequence %x, %v; want 2^64-1 kept", got, err)
	}
}
