package hostile

import (
	"context"
	"fmt"
	"sync"

	"github.com/ipfs/boxo/ipns"
	psrouter "github.com/libp2p/go-libp2p-pubsub-router"
	"github.com/libp2p/go-libp2p/core/peer"
)

// RecordTopic is the pubsub topic of a name's IPNS records.
func RecordTopic(name peer.ID) string {
	return psrouter.KeyToTopic(string(ipns.NameFromPeer(name).RoutingKey()))
}

// Recorder keeps every message seen on a name's record topic, as an
// eavesdropper on the LAN would, to replay later.
type Recorder struct {
	mu   sync.Mutex
	raws [][]byte
}

// Record starts keeping the records published for name until ctx ends.
func (p *Peer) Record(ctx context.Context, name peer.ID) (*Recorder, error) {
	t, err := p.topic(RecordTopic(name))
	if err != nil {
		return nil, err
	}
	sub, err := t.Subscribe()
	if err != nil {
		return nil, fmt.Errorf("failed to subscribe to %s's records: %w", name, err)
	}
	r := &Recorder{}
	go func() {
		defer sub.Cancel()
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.raws = append(r.raws, m.Data)
			r.mu.Unlock()
		}
	}()
	return r, nil
}

// Records returns the raw records kept so far, oldest first, without
// repeats.
func (r *Recorder) Records() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out [][]byte
	for _, b := range r.raws {
		if !seen[string(b)] {
			seen[string(b)] = true
			out = append(out, b)
		}
	}
	return out
}

// Replay sends raw records of name again, each copies times.
func (p *Peer) Replay(ctx context.Context, name peer.ID, raws [][]byte, copies int) error {
	for i := 0; i < copies; i++ {
		for _, raw := range raws {
			if err := p.Publish(ctx, RecordTopic(name), raw); err != nil {
				return err
			}
		}
	}
	return nil
}
