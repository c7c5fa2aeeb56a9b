package daemon

import (
	"context"
	"fmt"

	"github.com/peer-cloud/peer/p2p"
)

// catchUpOnReconnect asks the follower to catch up whenever a peer
// connects again while an older connection to it was still open (its link
// came back, or it restarted): libp2p reports no new peer then, so the
// names loop's catch-up on a new peer does not run, yet the records and
// announcements sent while the link was down were lost.
func (d *Daemon) catchUpOnReconnect(ctx context.Context) error {
	sub, err := d.node.Host().EventBus().Subscribe(new(p2p.EvtPeerReconnected))
	if err != nil {
		return fmt.Errorf("failed to watch reconnections: %w", err)
	}
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case <-sub.Out():
				d.names.follow.catchUp(ctx)
			}
		}
	}()
	return nil
}
