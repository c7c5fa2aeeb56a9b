package p2p

import (
	"context"
	"crypto/rand"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/peer-cloud/peer/blockstore"
)

// TestNewFailsCleanly: a node that cannot listen (its port is taken)
// returns an error, not a panic, and leaves its store usable.
func TestNewFailsCleanly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	st, err := blockstore.Open(context.Background(), t.TempDir(), blockstore.ProfileDefault, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sk, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	n, err := New(context.Background(), Config{
		Identity:    sk,
		Store:       st,
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/" + strconv.Itoa(port)},
	})
	if err == nil {
		n.Close()
		t.Fatal("a node started on a port in use")
	}
	if n != nil {
		t.Fatal("a failed New returned a node")
	}
	if !strings.Contains(err.Error(), "failed to start libp2p host") {
		t.Fatalf("error %q does not say what failed", err)
	}
}
