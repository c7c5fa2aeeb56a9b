package p2p

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/peer-cloud/peer/blockstore"
)

// blackhole forwards TCP connections to a target until frozen; from then
// on it reads and drops what either side sends, and closes nothing: the
// connections through it are dead, as after a link went down, while both
// ends still hold them open.
type blackhole struct {
	ln     net.Listener
	frozen chan struct{}
	once   sync.Once
}

func newBlackhole(t *testing.T, target ma.Multiaddr) *blackhole {
	t.Helper()
	to, err := manet.ToNetAddr(target)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln, frozen: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", to.String())
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); d.Close() })
			go b.pipe(c, d)
			go b.pipe(d, c)
		}
	}()
	return b
}

func (b *blackhole) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if err != nil {
			return
		}
		select {
		case <-b.frozen:
			continue
		default:
		}
		if _, err := to.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (b *blackhole) freeze() { b.once.Do(func() { close(b.frozen) }) }

func (b *blackhole) addr(t *testing.T) ma.Multiaddr {
	a, err := manet.FromNetAddr(b.ln.Addr())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestHeardPeerReplacesDeadConn: B is connected to A over a connection
// that died silently. When mDNS reports A under a new instance (A's link
// came back), B finds the connection dead, closes it and dials A again;
// A, seeing B connect while the dead connection is open, closes that one
// too and emits EvtPeerReconnected. (B used to skip a peer it counted as
// connected, so the two stayed apart until the connection timed out and
// longer.)
func TestHeardPeerReplacesDeadConn(t *testing.T) {
	a := TestNode(t, blockstore.ProfileDefault)
	b := TestNode(t, blockstore.ProfileDefault)
	direct := a.AddrInfo()
	hole := newBlackhole(t, direct.Addrs[0])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Connect(ctx, peer.AddrInfo{ID: direct.ID, Addrs: []ma.Multiaddr{hole.addr(t)}}); err != nil {
		t.Fatal(err)
	}
	sub, err := a.Host().EventBus().Subscribe(new(EvtPeerReconnected))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	hole.freeze()

	b.peerHeard(direct, "instance-after-the-link-came-back")
	var ev EvtPeerReconnected
	select {
	case e := <-sub.Out():
		ev = e.(EvtPeerReconnected)
	case <-ctx.Done():
		t.Fatal("A saw no reconnection")
	}
	if ev.Peer != b.Host().ID() || ev.Closed != 1 {
		t.Fatalf("A's reconnection event %+v; want peer %s with 1 dead connection closed", ev, b.Host().ID())
	}
	for _, n := range []*Node{a, b} {
		other := a.Host().ID()
		if n == a {
			other = b.Host().ID()
		}
		conns := n.Host().Network().ConnsToPeer(other)
		if len(conns) != 1 {
			t.Fatalf("%d connections left; want the new one alone", len(conns))
		}
		if err := pingConn(ctx, conns[0]); err != nil {
			t.Fatalf("the remaining connection does not answer: %v", err)
		}
	}
	if got := b.Host().Network().ConnsToPeer(direct.ID)[0].RemoteMultiaddr(); !got.Equal(direct.Addrs[0]) {
		t.Fatalf("B is connected to %s; want A's own address %s", got, direct.Addrs[0])
	}
}

// TestHeardPeerSameInstanceIsLeftAlone: a connected peer heard again
// under the instance it was heard under before costs nothing: its
// connection is not even pinged, so a busy connection is never closed
// for a slow answer.
func TestHeardPeerSameInstanceIsLeftAlone(t *testing.T) {
	a := TestNode(t, blockstore.ProfileDefault)
	b := TestNode(t, blockstore.ProfileDefault)
	direct := a.AddrInfo()
	hole := newBlackhole(t, direct.Addrs[0])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	via := peer.AddrInfo{ID: direct.ID, Addrs: []ma.Multiaddr{hole.addr(t)}}
	if err := b.Connect(ctx, via); err != nil {
		t.Fatal(err)
	}
	b.lan.mu.Lock()
	b.lan.instance[direct.ID] = "one" // heard before, under "one"
	b.lan.mu.Unlock()
	hole.freeze()
	b.peerHeard(via, "one")
	b.lan.mu.Lock()
	busy := b.lan.busy[direct.ID]
	b.lan.mu.Unlock()
	if busy {
		t.Fatal("a peer heard again under the same instance is being checked")
	}
	if n := len(b.Host().Network().ConnsToPeer(direct.ID)); n != 1 {
		t.Fatalf("%d connections; want the one it had", n)
	}
}
