package sync

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
)

// A change's new blocks go out on the account's blocks topic just before
// its IPNS record, when they are small, so the account's other devices
// take the change in without a Bitswap round trip per level of the DAG
// (each costs at least 20 ms: boxo's per-peer message queue waits that
// long between messages). Blocks are content-addressed, so a receiver
// checks each against its CID; it keeps them in a bounded cache and stores
// only those the announced head reaches.

// maxBlockCache bounds the memory the announced blocks a device keeps
// may take.
const maxBlockCache = 16 << 20

// Bounds of the announced-block cache. Each entry is charged its data,
// its CID and cacheEntryOverhead, so a flood of tiny blocks is bounded
// too; data is copied in, so a kept block does not pin the message it
// came in.
const (
	maxCacheEntries    = 4096
	cacheEntryOverhead = 160 // map entry, CID string, slice headers, order slot
)

// blockCache holds announced blocks until a head that reaches them comes.
// It forgets the oldest first.
type blockCache struct {
	mu    sync.Mutex
	m     map[cid.Cid][]byte
	order []cid.Cid
	cost  int
	added chan struct{} // closed (and replaced) when blocks are added
}

func entryCost(c cid.Cid, data []byte) int { return len(data) + c.ByteLen() + cacheEntryOverhead }

func (bc *blockCache) add(bs []blocks.Block) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if bc.m == nil {
		bc.m = map[cid.Cid][]byte{}
	}
	for _, b := range bs {
		if _, ok := bc.m[b.Cid()]; ok {
			continue
		}
		bc.m[b.Cid()] = bytes.Clone(b.RawData())
		bc.order = append(bc.order, b.Cid())
		bc.cost += entryCost(b.Cid(), b.RawData())
	}
	if bc.added != nil {
		close(bc.added)
		bc.added = nil
	}
	for (bc.cost > maxBlockCache || len(bc.m) > maxCacheEntries || len(bc.order) > 2*maxCacheEntries) && len(bc.order) > 0 {
		c := bc.order[0]
		bc.order = bc.order[1:]
		if d, ok := bc.m[c]; ok {
			bc.cost -= entryCost(c, d)
			delete(bc.m, c)
		}
	}
	// order's backing array only grows at its end: copy it down when
	// most of it is behind the head.
	if cap(bc.order) > 2*maxCacheEntries && len(bc.order) < cap(bc.order)/4 {
		bc.order = slices.Clone(bc.order)
	}
}

// take returns c's block and forgets it: a block stored is held by the
// store (kept, a full cache of used blocks cost every follower 16 MiB).
func (bc *blockCache) take(c cid.Cid) ([]byte, bool) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	d, ok := bc.m[c]
	if ok {
		delete(bc.m, c)
		bc.cost -= entryCost(c, d)
		// Its slot in order stays until it comes to the front; add
		// skips slots of forgotten blocks.
	}
	return d, ok
}

// wait returns once c is held, or after d, or when ctx ends; it reports
// whether c is held.
func (bc *blockCache) wait(ctx context.Context, c cid.Cid, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		bc.mu.Lock()
		_, ok := bc.m[c]
		if bc.added == nil {
			bc.added = make(chan struct{})
		}
		ch := bc.added
		bc.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// stats returns the entries held and their cost in bytes.
func (bc *blockCache) stats() (entries, cost int) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return len(bc.m), bc.cost
}
