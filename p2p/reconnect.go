package p2p

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	msmux "github.com/multiformats/go-multistream"
)

// deadConnTimeout is how long an older connection to a peer that connected
// again may take to answer a ping before it is closed.
const deadConnTimeout = time.Second

// reconnects watches for peers that connect while an older connection to
// them is still open, which is what a restarted peer looks like from here:
// a killed process sends nothing, so a QUIC connection to it stays up until
// it times out. Bitswap counts a peer connected while any connection is, so
// it keeps the dead process's wantlist and its queue of blocks to send;
// those blocks then go to the new process, which did not ask for them or
// asks again for what it still lacks, so they come twice (seen as a
// restarted fetcher "fetching 65 blocks while holding 9"). And libp2p
// opens new streams on the connection with the most streams, the dead one,
// so what is sent to the peer waits until that connection times out.
//
// So when a peer connects again, the node drops Bitswap's state for it at
// once (libp2p tells before it handles any stream of the new connection,
// so the new process's wants are kept), then pings each older connection
// over itself and closes those that do not answer (a restarted peer
// answers the old QUIC connection with a stateless reset at once), and
// emits EvtPeerReconnected. Peers
// that merely dialled each other twice at once lose wants sent in the
// moment between; a fetch asks again within its stall timeout.
type reconnects struct {
	n      *Node
	notify *network.NotifyBundle
	emit   event.Emitter
}

// EvtPeerReconnected is emitted on the host's event bus when a peer
// connects while older connections to it are open, once those were pinged
// and the dead ones closed. libp2p reports no change of connectedness
// then, yet the peer's link may have been down, or the peer restarted:
// what either sent meanwhile may be lost, so a listener should catch up
// with it as with a newly connected peer.
type EvtPeerReconnected struct {
	// Peer is the peer that connected again.
	Peer peer.ID
	// Closed is how many of its older connections were dead and closed.
	Closed int
	// Revived: no new connection came; an interface of this node's
	// changed, or the peer's mDNS instance did (its interfaces changed),
	// and the peer's connections were pinged: packets sent while a link
	// was down may have been lost or wait in a retransmission backoff.
	// Identify and the DHT know the peer already, so a listener may catch
	// up at once.
	Revived bool
}

func (n *Node) watchReconnects() (*reconnects, error) {
	em, err := n.host.EventBus().Emitter(new(EvtPeerReconnected))
	if err != nil {
		return nil, fmt.Errorf("failed to make the reconnection event: %w", err)
	}
	r := &reconnects{n: n, emit: em}
	r.notify = &network.NotifyBundle{ConnectedF: r.connected}
	n.host.Network().Notify(r.notify)
	return r, nil
}

func (r *reconnects) stop() {
	r.n.host.Network().StopNotify(r.notify)
	r.emit.Close()
}

func (r *reconnects) connected(net network.Network, c network.Conn) {
	n := r.n
	if n.ctx.Err() != nil {
		return
	}
	p := c.RemotePeer()
	var older []network.Conn
	for _, o := range net.ConnsToPeer(p) {
		if o != c && !o.Stat().Opened.After(c.Stat().Opened) {
			older = append(older, o)
		}
	}
	if len(older) == 0 {
		return
	}
	n.log.Debug("peer connected again; dropping Bitswap's state of its older connections", "peer", p)
	n.bitswap.PeerDisconnected(p)
	n.bitswap.PeerConnected(p)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		alive := n.closeDead(older)
		if n.ctx.Err() == nil {
			r.emit.Emit(EvtPeerReconnected{Peer: p, Closed: len(older) - alive})
		}
	}()
}

// revived reports, after a check of p's connections that found alive of
// them answering, that p's link may have been down and is back.
func (n *Node) revived(p peer.ID, checked, alive int) {
	if alive == 0 || n.ctx.Err() != nil || n.reconn == nil {
		return
	}
	n.reconn.emit.Emit(EvtPeerReconnected{Peer: p, Closed: checked - alive, Revived: true})
}

// pingConn runs libp2p's ping protocol once over c itself (the host's
// Ping picks a connection of its own).
func pingConn(ctx context.Context, c network.Conn) error {
	s, err := c.NewStream(ctx)
	if err != nil {
		return fmt.Errorf("failed to open a stream: %w", err)
	}
	defer s.Reset()
	if d, ok := ctx.Deadline(); ok {
		s.SetDeadline(d)
	}
	if err := msmux.SelectProtoOrFail(ping.ID, s); err != nil {
		return fmt.Errorf("failed to negotiate ping: %w", err)
	}
	out := make([]byte, ping.PingSize)
	rand.Read(out)
	if _, err := s.Write(out); err != nil {
		return fmt.Errorf("failed to ping: %w", err)
	}
	in := make([]byte, len(out))
	if _, err := io.ReadFull(s, in); err != nil {
		return fmt.Errorf("failed to read the ping's answer: %w", err)
	}
	if !bytes.Equal(in, out) {
		return fmt.Errorf("ping answered with other bytes")
	}
	return nil
}
