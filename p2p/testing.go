package p2p

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/peer-cloud/peer/blockstore"
)

// TestNode starts a node on 127.0.0.1 (TCP only: libp2p prefers QUIC when
// both are known, and TCP+TLS is the faster transport here) with a fresh
// store in a temporary folder, without mDNS or reproviding, and closes both
// when t ends.
func TestNode(t testing.TB, profile blockstore.Profile) *Node {
	t.Helper()
	ctx := context.Background()
	st, err := blockstore.Open(ctx, t.TempDir(), profile, nil)
	if err != nil {
		t.Fatal(err)
	}
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(ctx, Config{
		Identity:    sk,
		Store:       st,
		ListenAddrs: testListen,
	})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

var testListen = []string{"/ip4/127.0.0.1/tcp/0"}
