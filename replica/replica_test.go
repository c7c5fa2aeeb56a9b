package replica

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// mapHolder holds blocks in a map; lie, when set, is answered for c
// instead of its bytes.
type mapHolder struct {
	account peer.ID
	held    Held
	blocks  map[cid.Cid][]byte
	lie     cid.Cid
}

func (m *mapHolder) Held(a peer.ID) (Held, bool) { return m.held, a == m.account }

func (m *mapHolder) LocalBlock(_ context.Context, c cid.Cid) ([]byte, error) {
	if c == m.lie {
		return []byte("not the block"), nil
	}
	if b, ok := m.blocks[c]; ok {
		return b, nil
	}
	return nil, errors.New("not held")
}

func newHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func block(s string) blocks.Block { return blocks.NewBlock([]byte(s)) }

func TestAsk(t *testing.T) {
	ctx := context.Background()
	server, asker, stranger := newHost(t), newHost(t), newHost(t)
	for _, h := range []host.Host{server, stranger} {
		if err := asker.Connect(ctx, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	account := stranger.ID() // any peer ID names an account here
	b1, b2, b3 := block("one"), block("two"), block("three")
	holder := &mapHolder{account: account, held: Held{Role: RoleDonor, Root: b1.Cid(), Head: b2.Cid(), Seq: 7},
		blocks: map[cid.Cid][]byte{b1.Cid(): b1.RawData(), b2.Cid(): b2.RawData()}}
	s := Serve(server, holder, nil)
	defer s.Close()
	mine := map[cid.Cid][]byte{b1.Cid(): b1.RawData(), b2.Cid(): b2.RawData(), b3.Cid(): b3.RawData()}
	get := func(c cid.Cid) ([]byte, error) { return mine[c], nil }
	probes := []cid.Cid{b1.Cid(), b2.Cid(), b3.Cid()}

	answers := Ask(ctx, asker, asker.Network().Peers(), account, probes, get)
	if len(answers) != 1 {
		t.Fatalf("%d answers; want the server's alone (the stranger does not speak the protocol)", len(answers))
	}
	a := answers[0]
	if a.Err != nil || a.Holder != server.ID() || a.Role != RoleDonor || a.Head != b2.Cid() || a.Root != b1.Cid() || a.Seq != 7 {
		t.Fatalf("answer %+v", a)
	}
	if a.Claimed != 2 || a.Proved != 2 {
		t.Fatalf("claimed %d, proved %d; want 2 and 2 (it holds two of three)", a.Claimed, a.Proved)
	}

	// A holder that claims a block it does not have is caught.
	holder.lie = b2.Cid()
	if a := Ask(ctx, asker, []peer.ID{server.ID()}, account, probes, get)[0]; a.Claimed != 2 || a.Proved != 1 {
		t.Fatalf("a lying holder: claimed %d, proved %d; want 2 and 1", a.Claimed, a.Proved)
	}
	// Of another account it holds nothing and proves nothing.
	if a := Ask(ctx, asker, []peer.ID{server.ID()}, asker.ID(), probes, get)[0]; a.Err != nil || a.Role != "" || a.Claimed != 0 || a.Head.Defined() {
		t.Fatalf("another account: %+v", a)
	}
}

func TestReceiptSignature(t *testing.T) {
	key, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	other, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	id, _ := peer.IDFromPrivateKey(key)
	r := Receipt{Holder: id, Account: id, Role: RoleDevice, Head: block("h").Cid(), Time: 5, Proofs: [][]byte{{}, Proof([32]byte{}, []byte("x"))}}
	good, err := sign(r, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := openReceipt(good)
	if err != nil || got.Head != r.Head || got.Role != RoleDevice || len(got.Proofs) != 2 {
		t.Fatalf("openReceipt = %+v, %v", got, err)
	}
	forged, _ := sign(r, other) // signed by another key, naming id
	if _, err := openReceipt(forged); err == nil {
		t.Fatal("a receipt signed by another key than its holder's opened")
	}
	r.Role = "owner"
	bad, _ := sign(r, key)
	if _, err := openReceipt(bad); err == nil {
		t.Fatal("a receipt of an unknown role opened")
	}
}

// FuzzOpenReceipt and FuzzRequest feed any bytes to the decoders of what
// comes from the network: errors are fine, panics are not, and what
// decodes encodes to the same bytes.
func FuzzOpenReceipt(f *testing.F) {
	key, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	id, _ := peer.IDFromPrivateKey(key)
	good, _ := sign(Receipt{Holder: id, Account: id, Role: RoleDonor, Proofs: [][]byte{{}}}, key)
	f.Add(good)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := openReceipt(b)
		if err != nil {
			return
		}
		if r.Holder == "" || len(r.Sig) == 0 {
			t.Fatalf("opened a receipt with no holder or signature: %+v", r)
		}
	})
}

func FuzzRequest(f *testing.F) {
	id, _ := peer.Decode("12D3KooWGRUVh9HnjUj8KJDyqJ1dCQ8tfn6Ho1RoyAHGVt3U7nVP")
	good, _ := marshalRequest(Request{Account: id, Probes: []cid.Cid{block("x").Cid()}})
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := unmarshalRequest(b)
		if err != nil {
			return
		}
		again, err := marshalRequest(r)
		if err != nil || string(again) != string(b) {
			t.Fatalf("a request decoded but does not encode to its bytes: %v", err)
		}
	})
}
