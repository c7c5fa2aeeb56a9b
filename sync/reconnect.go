package sync

import (
	"context"
	"fmt"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/p2p"
)

// reconnectCatchUp is how long after a peer (re)connects the follower
// catches up: long enough for identify and the DHT's routing table to
// take the peer in.
const reconnectCatchUp = time.Second

// revivedCatchUp is how soon the follower catches up after the
// connections to a peer answered again following a change of interfaces
// (this node's or the peer's): the peer is known to identify and the DHT
// already.
const revivedCatchUp = 50 * time.Millisecond

// retryCatchUp is when the follower catches up once more after a
// (re)connection: on a loaded machine the first try can run before the
// peer's DHT and gossipsub are reachable over the new connection (a
// carrier flap left the old one half-dead), and then nothing else asks
// until the next catch-up interval. It comes after the first try's
// resolve has given up, so that it is not dropped as one in flight.
const retryCatchUp = catchUpResolve + 500*time.Millisecond

// catchUpOnReconnect asks the follower to catch up shortly after a peer
// connects, and after a peer connects again while an older connection to
// it was still open (its link came back, or it restarted: libp2p reports
// no new peer then, so the names loop's catch-up on a new peer does not
// run). Records and announcements sent while the link was down were lost.
// When the peer is another device of the account, the head is published
// again too. This runs apart from the names loop, which a publication to a peer
// whose link just went down can hold up for seconds.
func (n *Service) catchUpOnReconnect(ctx context.Context) error {
	sub, err := n.node.Host().EventBus().Subscribe([]any{new(p2p.EvtPeerReconnected), new(event.EvtPeerConnectednessChanged)})
	if err != nil {
		return fmt.Errorf("failed to watch reconnections: %w", err)
	}
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		defer sub.Close()
		device := false // a device of the account came (back)
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
		// The timer fires at the earliest time asked for; asked for a
		// later time too (a new connection after a revived one), it
		// fires again then.
		var due, later time.Time
		var retry time.Time // when the retry catch-up of the last events is due
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-sub.Out():
				var p peer.ID
				wait := reconnectCatchUp
				switch e := ev.(type) {
				case event.EvtPeerConnectednessChanged:
					if e.Connectedness != network.Connected {
						continue
					}
					p = e.Peer
				case p2p.EvtPeerReconnected:
					p = e.Peer
					if e.Revived {
						wait = revivedCatchUp
					}
				}
				if n.isDevice(p) {
					device = true
				}
				at := time.Now().Add(wait)
				switch {
				case due.IsZero() || at.Before(due):
					if !due.IsZero() {
						later = due
					}
					due = at
					timer.Reset(wait)
				case at.After(later):
					later = at
				}
			case <-timer.C:
				due = time.Time{}
				if retry.IsZero() {
					// A first catch-up for these events: one more later.
					retry = time.Now().Add(retryCatchUp)
					if later.IsZero() || retry.After(later) {
						later = retry
					}
				} else if !time.Now().Before(retry) {
					retry = time.Time{}
				}
				if wait := time.Until(later); wait > 0 {
					due, later = later, time.Time{}
					timer.Reset(wait)
				}
				n.follow.catchUp(ctx)
				if device {
					// What this device published while the link was
					// down reached nobody (or a dead connection), and
					// the other device's catch-up may find no record
					// in a DHT that had no peers then: send the head
					// again.
					device = false
					n.republish()
				}
			}
		}
	}()
	return nil
}

// publishOnDeviceJoin publishes the head again, and catches up, whenever
// another device of the account joins the account's blocks topic: after
// a link flap that is the moment the two can hear each other's records
// again (a second after the connection, when the republish used to go,
// gossipsub may not know the device's subscriptions yet, and the record
// reached nobody). Devices subscribe to both of the account's topics at
// once, so a join on one stands for both.
func (n *Service) publishOnDeviceJoin(ctx context.Context) error {
	if n.topic == nil {
		return nil
	}
	h, err := n.topic.EventHandler()
	if err != nil {
		return fmt.Errorf("failed to watch the account's blocks topic: %w", err)
	}
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		defer h.Cancel()
		for {
			ev, err := h.NextPeerEvent(ctx)
			if err != nil {
				return
			}
			if ev.Type == pubsub.PeerJoin && n.isDevice(ev.Peer) {
				n.log.Debug("a device of the account joined the blocks topic; publishing again", "peer", ev.Peer)
				n.republish()
				n.follow.catchUp(ctx)
			}
		}
	}()
	return nil
}

// republish sends the newest record of the account this device knows
// again, as it is, unless this run has published nothing yet: what it
// sent while a link was down reached nobody. It makes no new record: a
// new sequence number for this device's head, which may be stale after
// the outage, would outrank the newer head another device published
// meanwhile with a lower one, and the two devices would then each take
// the older head for the newest (SPEC.md section 14).
func (n *Service) republish() {
	n.mu.Lock()
	published := n.last != nil
	n.mu.Unlock()
	if !published {
		return
	}
	if err := n.ns.Republish(n.ctx, n.acct.Keys().PeerID()); err != nil {
		n.log.Debug("failed to send the account's record again", "err", err)
		return
	}
	n.log.Debug("sent the account's newest record again")
	// A device that just came back may hear nothing on pubsub for a while
	// (gossipsub learns its subscriptions anew, or lost them): push the
	// record to it too.
	n.pushRecords(true)
}
