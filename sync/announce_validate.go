package sync

import (
	"context"
	"log/slog"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/announce"
	"github.com/peer-cloud/peer/p2p"
)

// Every message on an account's blocks topic is checked before it is
// delivered or forwarded: it must decode (announce.Decode: size, count, CID
// kinds, hashes), hold the account root it announces, and be signed by a
// device that root certifies for this account. Anything else is refused,
// so a stranger's flood goes no further than the first device, and a peer
// that keeps sending refused messages is cut off for a while.

// Limits for peers sending refused announcements.
const (
	// rejectLimit refused messages within rejectWindow get the peer that
	// sent them blacklisted by pubsub (streams closed, messages dropped).
	rejectLimit  = 3
	rejectWindow = 10 * time.Minute
)

// announcement is what the validator found in a message: its blocks.
type announcement struct{ blocks []blocks.Block }

// validateAnnouncement checks one message of the blocks topic; the
// decoded blocks go to the receiver in m.ValidatorData.
func (n *Service) validateAnnouncement(ctx context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
	bs, err := n.checkAnnouncement(ctx, m.GetFrom(), m.Data)
	if err != nil {
		n.rejects.refused(from, err)
		n.underAttack()
		return pubsub.ValidationReject
	}
	m.ValidatorData = announcement{bs}
	return pubsub.ValidationAccept
}

// checkAnnouncement decodes data and checks that author is a device the
// announced account root certifies for this account, and not one that
// was removed.
func (n *Service) checkAnnouncement(ctx context.Context, author peer.ID, data []byte) ([]blocks.Block, error) {
	switch {
	case author == n.node.Host().ID():
		return announce.Decode(data)
	case n.isRevoked(author):
		if _, err := announce.Decode(data); err != nil {
			return nil, err
		}
		return nil, announce.ErrNotDevice
	}
	return announce.Check(ctx, data, n.acct.Keys().PeerID(), author)
}

// rejecter counts refused messages per sending peer and blacklists those
// that keep sending them.
type rejecter struct {
	ps    *pubsub.PubSub
	log   *slog.Logger
	mu    sync.Mutex
	peers map[peer.ID][]time.Time
}

func (r *rejecter) refused(p peer.ID, why error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.peers == nil {
		r.peers = map[peer.ID][]time.Time{}
	}
	now := time.Now()
	// Forget old refusals and, so the map stays small, peers with none.
	if len(r.peers) > 256 {
		for q, ts := range r.peers {
			if now.Sub(ts[len(ts)-1]) > rejectWindow {
				delete(r.peers, q)
			}
		}
	}
	ts := r.peers[p]
	for len(ts) > 0 && now.Sub(ts[0]) > rejectWindow {
		ts = ts[1:]
	}
	ts = append(ts, now)
	r.peers[p] = ts
	r.log.Debug("refused a block announcement", "from", p, "err", why)
	if len(ts) == rejectLimit {
		r.log.Warn("cutting off a LAN peer that keeps sending invalid announcements", "peer", p, "for", p2p.BanDuration, "last", why)
		r.ps.BlacklistPeer(p)
	}
}

// attackCatchUp is how often, while refused messages arrive, the follower
// asks the DHT for the account's newest record: a flood can fill
// gossipsub's validation queue, which then drops messages from every
// peer, the account's own records among them.
const attackCatchUp = 2 * time.Second

// underAttack schedules a catch-up, at most every attackCatchUp.
func (n *Service) underAttack() {
	now := time.Now().UnixNano()
	last := n.lastAttackCatchUp.Load()
	if now-last < int64(attackCatchUp) || !n.lastAttackCatchUp.CompareAndSwap(last, now) {
		return
	}
	n.follow.catchUp(n.ctx)
}
