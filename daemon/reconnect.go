package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/p2p"
)

// reconnectCatchUp is how long after a peer (re)connects the follower
// catches up: long enough for identify and the DHT's routing table to
// take the peer in.
const reconnectCatchUp = time.Second

// catchUpOnReconnect asks the follower to catch up shortly after a peer
// connects, and after a peer connects again while an older connection to
// it was still open (its link came back, or it restarted: libp2p reports
// no new peer then, so the names loop's catch-up on a new peer does not
// run). Records and announcements sent while the link was down were lost.
// When the peer is another device of the account, the head is published
// again too. This runs apart from the names loop, which a publication to a peer
// whose link just went down can hold up for seconds.
func (d *Daemon) catchUpOnReconnect(ctx context.Context) error {
	sub, err := d.node.Host().EventBus().Subscribe([]any{new(p2p.EvtPeerReconnected), new(event.EvtPeerConnectednessChanged)})
	if err != nil {
		return fmt.Errorf("failed to watch reconnections: %w", err)
	}
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		defer sub.Close()
		device := false // a device of the account came (back)
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-sub.Out():
				var p peer.ID
				switch e := ev.(type) {
				case event.EvtPeerConnectednessChanged:
					if e.Connectedness != network.Connected {
						continue
					}
					p = e.Peer
				case p2p.EvtPeerReconnected:
					p = e.Peer
				}
				if d.names.isDevice(p) {
					device = true
				}
				timer.Reset(reconnectCatchUp)
			case <-timer.C:
				d.names.follow.catchUp(ctx)
				if device {
					// What this device published while the link was
					// down reached nobody (or a dead connection), and
					// the other device's catch-up may find no record
					// in a DHT that had no peers then: send the head
					// again.
					device = false
					d.names.schedulePublish()
				}
			}
		}
	}()
	return nil
}
