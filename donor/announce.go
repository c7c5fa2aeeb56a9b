package donor

import (
	"context"
	"fmt"
	"time"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/announce"
	"github.com/peer-cloud/peer/vault"
)

// A device sends a change's blocks on the account's blocks topic just
// before its record (SPEC.md §14, "Announced blocks"). The donor takes
// them in too, so that holding a change costs no Bitswap round trip: it
// checks them as a device does (framing, bounds, each block against its
// CID, one account root listing a certificate of this account for the
// message's author), keeps them in a small cache, and stores those the
// next root it mirrors reaches (a cache that kept the blocks it stored
// grew a pi donor of three accounts by 3 MB a minute).
const (
	// cacheBytes and cacheEntries bound the announced blocks kept per
	// account (an announcement is at most 900 KiB).
	cacheBytes   = 4 << 20
	cacheEntries = 1024
	// announceWait is how long a fetch waits for the announcement of a
	// root that came before it.
	announceWait = 50 * time.Millisecond
)

// receive joins the account's blocks topic and keeps what arrives on it
// until ctx ends. A node that is itself a device of the account has the
// topic joined already (its sync service takes the blocks in): then it
// does nothing.
func (m *mirror) receive(ctx context.Context) {
	ps := m.s.cfg.Node.PubSub()
	if ps == nil {
		return
	}
	topic := announce.Topic(vault.AccountID(m.id))
	self := m.s.cfg.Node.Host().ID()
	if err := ps.RegisterTopicValidator(topic, func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if msg.GetFrom() == self {
			return pubsub.ValidationIgnore
		}
		bs, err := announce.Check(ctx, msg.Data, m.id, msg.GetFrom())
		if err != nil {
			return pubsub.ValidationReject
		}
		msg.ValidatorData = bs
		return pubsub.ValidationAccept
	}); err != nil {
		m.s.log.Debug("not taking the account's announced blocks", "account", m.id, "err", err)
		return
	}
	defer ps.UnregisterTopicValidator(topic)
	t, err := ps.Join(topic)
	if err != nil {
		return
	}
	defer t.Close()
	sub, err := t.Subscribe()
	if err != nil {
		return
	}
	defer sub.Cancel()
	for {
		msg, err := sub.Next(ctx)
		if err != nil {
			return
		}
		if bs, ok := msg.ValidatorData.([]blocks.Block); ok {
			m.cache.Add(bs)
		}
	}
}

// prefill stores the announced blocks that root reaches, and returns
// their bytes.
func (m *mirror) prefill(ctx context.Context, root cid.Cid) (int64, error) {
	bs := m.s.cfg.Store.Blockstore()
	if has, err := bs.Has(ctx, root); err != nil || has {
		return 0, err
	}
	m.cache.Wait(ctx, root, announceWait)
	var put []blocks.Block
	var n int64
	stack := []cid.Cid{root}
	seen := map[cid.Cid]bool{}
	for len(stack) > 0 && len(put) < announce.MaxBlocks {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[c] {
			continue
		}
		seen[c] = true
		data, ok := m.cache.Take(c)
		if !ok {
			continue
		}
		if has, err := bs.Has(ctx, c); err != nil {
			return 0, err
		} else if !has {
			b, err := blocks.NewBlockWithCid(data, c)
			if err != nil {
				continue
			}
			put = append(put, b)
			n += int64(len(data))
		}
		if ls, err := vault.Links(c, data); err == nil {
			stack = append(stack, ls...)
		}
	}
	if len(put) == 0 {
		return 0, nil
	}
	if err := bs.PutMany(ctx, put); err != nil {
		return 0, fmt.Errorf("failed to store announced blocks: %w", err)
	}
	m.fromCache.Add(int64(len(put)))
	return n, nil
}
