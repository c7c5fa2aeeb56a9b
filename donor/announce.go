package donor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/vault"
)

// A device sends a change's blocks on the account's blocks topic just
// before its record (SPEC.md §14, "Announced blocks"). The donor takes
// them in too, so that holding a change costs no Bitswap round trip: it
// checks them as a device does (framing, bounds, each block against its
// CID, one account root listing a certificate of this account for the
// message's author), keeps them in a small cache, and stores those the
// next root it mirrors reaches.
const (
	maxAnnounceMessage = 964 << 10
	maxAnnounceBlocks  = account.MaxAnnounceBlocks
	// cacheBytes bounds the announced blocks kept per account.
	cacheBytes = 16 << 20
	// announceWait is how long a fetch waits for the announcement of a
	// root that came before it.
	announceWait = 50 * time.Millisecond
)

func blocksTopic(id peer.ID) string { return "/peer/blocks/1/" + vault.AccountID(id) }

// decodeBlocks reads a block announcement: a sequence of (uvarint CID
// length, CID, uvarint data length, data), every CID a vault CID and
// every block matching it.
func decodeBlocks(data []byte) ([]blocks.Block, error) {
	if len(data) > maxAnnounceMessage {
		return nil, fmt.Errorf("block announcement of %d bytes; at most %d", len(data), maxAnnounceMessage)
	}
	var out []blocks.Block
	field := func() ([]byte, error) {
		n, k := binary.Uvarint(data)
		if k <= 0 || n > uint64(len(data)-k) {
			return nil, errors.New("truncated block announcement")
		}
		f := data[k : k+int(n)]
		data = data[k+int(n):]
		return f, nil
	}
	for len(data) > 0 {
		if len(out) == maxAnnounceBlocks {
			return nil, fmt.Errorf("block announcement of more than %d blocks", maxAnnounceBlocks)
		}
		cb, err := field()
		if err != nil {
			return nil, err
		}
		d, err := field()
		if err != nil {
			return nil, err
		}
		c, err := cid.Cast(cb)
		if err != nil {
			return nil, fmt.Errorf("bad CID in block announcement: %w", err)
		}
		if err := vault.CheckCID(c); err != nil {
			return nil, err
		}
		if got, err := c.Prefix().Sum(d); err != nil || !got.Equals(c) {
			return nil, fmt.Errorf("announced block does not match its CID %s", c)
		}
		b, err := blocks.NewBlockWithCid(d, c)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

type memBlocks map[cid.Cid][]byte

func (m memBlocks) Get(_ context.Context, c cid.Cid) ([]byte, error) {
	if b, ok := m[c]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("block %s not in the announcement", c)
}

func (memBlocks) Put(context.Context, []blocks.Block) error {
	return errors.New("an announcement is read only")
}

// checkAnnouncement decodes data and checks that author is a device the
// announced root certifies for account id.
func checkAnnouncement(ctx context.Context, id, author peer.ID, data []byte) ([]blocks.Block, error) {
	bs, err := decodeBlocks(data)
	if err != nil {
		return nil, err
	}
	held := memBlocks{}
	var roots []cid.Cid
	for _, b := range bs {
		held[b.Cid()] = b.RawData()
		if k, err := vault.BlockKind(b.Cid(), b.RawData()); err != nil {
			return nil, err
		} else if k == "root" {
			roots = append(roots, b.Cid())
		}
	}
	if len(roots) != 1 {
		return nil, fmt.Errorf("announcement holds %d account roots, want 1", len(roots))
	}
	root, err := vault.ReadRoot(ctx, held, roots[0])
	if err != nil {
		return nil, err
	}
	for _, cb := range root.Devices {
		if c, err := vault.ParseDeviceCert(cb); err == nil && c.Account == id && c.Device == author {
			return bs, nil
		}
	}
	return nil, errors.New("announcement not signed by a device the account certifies")
}

// blockCache holds announced blocks, oldest dropped first.
type blockCache struct {
	mu      sync.Mutex
	blocks  map[cid.Cid]blocks.Block
	order   []cid.Cid
	bytes   int
	arrived chan struct{}
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
		bc.bytes += len(d)
	}
	for bc.bytes > cacheBytes && len(bc.order) > 0 {
		c := bc.order[0]
		bc.order = bc.order[1:]
		if b, ok := bc.blocks[c]; ok {
			bc.bytes -= len(b.RawData())
			delete(bc.blocks, c)
		}
	}
	close(bc.arrived)
	bc.arrived = make(chan struct{})
}

func (bc *blockCache) get(c cid.Cid) (blocks.Block, bool) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	b, ok := bc.blocks[c]
	return b, ok
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
	topic := blocksTopic(m.id)
	self := m.s.cfg.Node.Host().ID()
	if err := ps.RegisterTopicValidator(topic, func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if msg.GetFrom() == self {
			return pubsub.ValidationIgnore
		}
		bs, err := checkAnnouncement(ctx, m.id, msg.GetFrom(), msg.Data)
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
	var n int64
	stack := []cid.Cid{root}
	seen := map[cid.Cid]bool{}
	for len(stack) > 0 && len(put) < maxAnnounceBlocks {
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
	if len(put) == 0 {
		return 0, nil
	}
	if err := bs.PutMany(ctx, put); err != nil {
		return 0, fmt.Errorf("failed to store announced blocks: %w", err)
	}
	return n, nil
}
