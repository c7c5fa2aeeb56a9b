package p2p

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// redialDelays are the waits before each attempt to dial a peer mDNS
// reported, while it stays unconnected: a link that just came back may
// not carry traffic yet (the other end's port, ARP), but the peer is on
// the LAN, so a failed dial is tried again soon rather than at the next
// report.
var redialDelays = []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// redialTimeout bounds one attempt to dial a LAN peer.
const redialTimeout = 5 * time.Second

// maxHeard bounds the mDNS instances remembered (one per peer): past it,
// the memory starts afresh, which costs a ping per connected peer at most.
const maxHeard = 4096

// lanPeers is what the node knows of the peers mDNS reports.
type lanPeers struct {
	mu       sync.Mutex
	instance map[peer.ID]string // the mDNS instance a peer was last heard under
	busy     map[peer.ID]bool   // a check or dial of the peer is running
}

// peerHeard handles a peer mDNS reported under an instance name. A peer
// that is not connected is dialled at once (with libp2p's dial backoff
// for it cleared: dials that failed while the link was down must not
// hold up this one), and again after each of redialDelays while it stays
// unconnected. A connected peer heard under a new instance has restarted
// its mDNS service, so its interfaces changed and the connections to it
// may be dead: they are pinged, the dead ones closed, and the peer
// dialled if none is left. A connected peer heard again under the same
// instance needs nothing.
func (n *Node) peerHeard(ai peer.AddrInfo, instance string) {
	if ai.ID == n.host.ID() || n.ctx.Err() != nil {
		return
	}
	lp := &n.lan
	lp.mu.Lock()
	if len(lp.instance) >= maxHeard {
		clear(lp.instance)
	}
	fresh := lp.instance[ai.ID] != instance
	lp.instance[ai.ID] = instance
	conns := n.host.Network().ConnsToPeer(ai.ID)
	if lp.busy[ai.ID] || len(conns) > 0 && !fresh {
		lp.mu.Unlock()
		return
	}
	lp.busy[ai.ID] = true
	lp.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer lp.release(ai.ID)
		if len(conns) > 0 {
			if alive := n.closeDead(conns); alive > 0 {
				n.revived(ai.ID, len(conns), alive)
				return
			}
		}
		n.redial(ai)
	}()
}

// redial dials ai until it is connected, the delays run out or the node
// closes.
func (n *Node) redial(ai peer.AddrInfo) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var err error
	for i, d := range redialDelays {
		if i > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-n.ctx.Done():
				return
			}
		}
		if len(n.host.Network().ConnsToPeer(ai.ID)) > 0 {
			return // it dialled us
		}
		if sw, ok := n.host.Network().(*swarm.Swarm); ok {
			sw.Backoff().Clear(ai.ID)
		}
		ctx, cancel := context.WithTimeout(n.ctx, redialTimeout)
		err = n.Connect(ctx, ai)
		cancel()
		if err == nil {
			n.log.Info("connected to LAN peer", "peer", ai.ID)
			return
		}
		if n.ctx.Err() != nil {
			return
		}
	}
	n.log.Debug("mDNS peer not reachable", "peer", ai.ID, "err", err)
}

// checkConns pings every connection in the background and closes those
// that do not answer: after a link went down or came back, a connection
// whose packets were lost may be dead while libp2p still counts the peer
// connected, and then neither dials the peer nor opens streams elsewhere.
func (n *Node) checkConns() {
	for _, p := range n.host.Network().Peers() {
		conns := n.host.Network().ConnsToPeer(p)
		if len(conns) == 0 {
			continue
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			alive := n.closeDead(conns)
			n.revived(p, len(conns), alive)
			if alive == 0 {
				n.redialLost(p)
			}
		}()
	}
}

// redialLost dials p again, as a peer mDNS reported, when a check closed
// every connection to it: a ping can fail on a live connection just after
// a link came back, and then nothing else connects the two until mDNS
// reports the peer again (seen as a device that took nothing for 10 s
// after the heal).
func (n *Node) redialLost(p peer.ID) {
	lp := &n.lan
	lp.mu.Lock()
	if lp.busy[p] || len(n.host.Network().ConnsToPeer(p)) > 0 {
		lp.mu.Unlock()
		return
	}
	lp.busy[p] = true
	lp.mu.Unlock()
	defer lp.release(p)
	n.redial(peer.AddrInfo{ID: p, Addrs: n.host.Peerstore().Addrs(p)})
}

// release ends the check or dial of p that set busy.
func (lp *lanPeers) release(p peer.ID) {
	lp.mu.Lock()
	delete(lp.busy, p)
	lp.mu.Unlock()
}

// closeDead pings each connection over itself, closes those that do not
// answer within deadConnTimeout, and returns how many answered. A reset
// stream is an answer: the peer is there.
func (n *Node) closeDead(conns []network.Conn) int {
	alive := make(chan bool, len(conns))
	for _, c := range conns {
		go func() {
			ctx, cancel := context.WithTimeout(n.ctx, deadConnTimeout)
			err := pingConn(ctx, c)
			cancel()
			var se *network.StreamError
			if err == nil || errors.As(err, &se) && se.Remote || n.ctx.Err() != nil {
				alive <- true
				return
			}
			n.log.Debug("closing a dead connection", "peer", c.RemotePeer(), "addr", c.RemoteMultiaddr(), "err", err)
			c.Close()
			alive <- false
		}()
	}
	count := 0
	for range conns {
		if <-alive {
			count++
		}
	}
	return count
}
