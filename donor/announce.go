package donor

import (
	"context"
	"fmt"
	"sync"
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
// next root it mirrors reaches. A block stored leaves the cache: the
// store holds it (a cache that kept them grew a pi donor of three
// accounts by 3 MB a minute, to 16 MiB each).
const (
	// cacheBytes bounds the announced blocks kept per account (an
	// announcement is at most 900 KiB), each charged cacheEntryOverhead
	// besides its data, so that a flood of tiny blocks is bounded too.
	cacheBytes         = 4 << 20
	cacheEntryOverhead = 160
	// announceWait is how long a fetch waits for the announcement of a
	// root that came before it.
	announceWait = 50 * time.Millisecond
)

// blockCache holds announced blocks, oldest dropped first.
type blockCache struct {
	mu      sync.Mutex
	blocks  map[cid.Cid]blocks.Block
	order   []cid.Cid
	bytes   int
	arrived chan struct{}
	stored  int // blocks stored from the cache, for tests
}

func newBlockCache() *blockCache {
	return &blockCache{blocks: map[cid.Cid]blocks.Block{}, arrived: make(chan struct{})}
}

func (bc *blockCache) add(bs []blocks.Block) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	for _, b := range bs {
		if _, ok := bc.blocks[b.Cid()]; ok {
			continue
		}
		// Copied out of the message, whose buffer pubsub may reuse.
		d := append([]byte(nil), b.RawData()...)
		nb, _ := blocks.NewBlockWithCid(d, b.Cid())
		bc.blocks[b.Cid()] = nb
		bc.order = append(bc.order, b.Cid())
		bc.bytes += len(d) + cacheEntryOverhead
	}
	for bc.bytes > cacheBytes && len(bc.order) > 0 {
		c := bc.order[0]
		bc.order = bc.order[1:]
		if b, ok := bc.blocks[c]; ok {
			bc.bytes -= len(b.RawData()) + cacheEntryOverhead
			delete(bc.blocks, c)
		}
	}
	bc.compact()
	close(bc.arrived)
	bc.arrived = make(chan struct{})
}

func (bc *blockCache) get(c cid.Cid) (blocks.Block, bool) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	b, ok := bc.blocks[c]
	return b, ok
}

// drop forgets blocks (stored, so the store holds them now).
func (bc *blockCache) drop(cs []cid.Cid) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	for _, c := range cs {
		if b, ok := bc.blocks[c]; ok {
			bc.bytes -= len(b.RawData()) + cacheEntryOverhead
			delete(bc.blocks, c)
			bc.stored++
		}
	}
	bc.compact()
}

// compact lets go of the order's slots of forgotten blocks once they are
// most of it; the caller holds mu.
func (bc *blockCache) compact() {
	if len(bc.order) <= 2*len(bc.blocks)+64 {
		return
	}
	order := make([]cid.Cid, 0, len(bc.blocks))
	for _, c := range bc.order {
		if _, ok := bc.blocks[c]; ok {
			order = append(order, c)
		}
	}
	bc.order = order
}

// held returns the blocks held, their cost in bytes, and how many were
// stored from the cache.
func (bc *blockCache) held() (n, cost, stored int) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return len(bc.blocks), bc.bytes, bc.stored
}

// wait waits up to d for c to arrive.
func (bc *blockCache) wait(ctx context.Context, c cid.Cid, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		bc.mu.Lock()
		_, ok := bc.blocks[c]
		ch := bc.arrived
		bc.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

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
			m.cache.add(bs)
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
	m.cache.wait(ctx, root, announceWait)
	var put []blocks.Block
	var used []cid.Cid
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
		b, ok := m.cache.get(c)
		if !ok {
			continue
		}
		used = append(used, c)
		if has, err := bs.Has(ctx, c); err != nil {
			return 0, err
		} else if !has {
			put = append(put, b)
			n += int64(len(b.RawData()))
		}
		if ls, err := vault.Links(c, b.RawData()); err == nil {
			stack = append(stack, ls...)
		}
	}
	if len(put) > 0 {
		if err := bs.PutMany(ctx, put); err != nil {
			return 0, fmt.Errorf("failed to store announced blocks: %w", err)
		}
	}
	m.cache.drop(used)
	return n, nil
}
