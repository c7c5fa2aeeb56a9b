package p2p_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/ipfsfile"
	"github.com/peer-cloud/peer/p2p"
)

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFetchFileBetweenTwoNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := p2p.TestNode(t, blockstore.ProfileDefault)
	b := p2p.TestNode(t, blockstore.ProfileDefault)
	data := randomBytes(t, 20<<20+12345)
	nd, err := ipfsfile.Add(ctx, a.Store().DAG(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(ctx, a.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, root, err := ipfsfile.Stat(ctx, b.DAG(), nd.Cid())
	if err != nil {
		t.Fatal(err)
	}
	if err := ipfsfile.WriteFile(ctx, b, root, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("fetched %d bytes that differ from the %d added", out.Len(), len(data))
	}
}

func BenchmarkTransferLoopback(b *testing.B) {
	ctx := context.Background()
	const size = 256 << 20
	data := randomBytes(b, size)
	b.SetBytes(size)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		src := p2p.TestNode(b, blockstore.ProfileDefault)
		dst := p2p.TestNode(b, blockstore.ProfileDefault)
		nd, err := ipfsfile.Add(ctx, src.Store().DAG(), bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if err := dst.Connect(ctx, src.AddrInfo()); err != nil {
			b.Fatal(err)
		}
		if f := os.Getenv("PEER_FETCH_PROFILE"); f != "" {
			pf, err := os.Create(f)
			if err != nil {
				b.Fatal(err)
			}
			pprof.StartCPUProfile(pf)
		}
		b.StartTimer()
		if err := dst.FetchDAG(ctx, nd.Cid(), nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if os.Getenv("PEER_FETCH_PROFILE") != "" {
			pprof.StopCPUProfile()
		}
	}
}

// TestBitswapLostPeerRecovers: when Bitswap on both ends has dropped the
// other (boxo's "unresponsive" marking) but the connection is up, a fetch
// still finishes, because the node gives the peer back to Bitswap.
func TestBitswapLostPeerRecovers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := p2p.TestNode(t, blockstore.ProfileDefault)
	b := p2p.TestNode(t, blockstore.ProfileDefault)
	if err := b.Connect(ctx, a.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	first, err := ipfsfile.Add(ctx, a.Store().DAG(), bytes.NewReader(randomBytes(t, 3<<20)))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.FetchDAG(ctx, first.Cid(), nil); err != nil {
		t.Fatal(err)
	}
	a.ForgetBitswapPeer(b.Host().ID())
	b.ForgetBitswapPeer(a.Host().ID())
	data := randomBytes(t, 5<<20)
	second, err := ipfsfile.Add(ctx, a.Store().DAG(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.FetchDAG(ctx, second.Cid(), nil); err != nil {
		t.Fatalf("fetch after Bitswap lost its peer: %v", err)
	}
}
