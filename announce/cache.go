package announce

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
)

// cacheEntryOverhead is what a Cache charges each block besides its
// data and CID (map entry, CID string, slice headers, order slot), so
// that a flood of tiny blocks is bounded too.
const cacheEntryOverhead = 160

// Cache holds announced blocks until a root that reaches them comes
// (a device's follower, a donor's mirror), within its bounds; it forgets
// the oldest first. Blocks are copied in, so a kept block does not pin the
// message it came in. A block taken is forgotten: the store holds it
// then (a cache that kept them cost every follower, and every donor for
// each account, their whole bound).
type Cache struct {
	maxBytes, maxEntries int

	mu    sync.Mutex
	m     map[cid.Cid][]byte
	order []cid.Cid
	cost  int
	added chan struct{} // closed (and replaced) when blocks are added
}

// NewCache returns a cache of at most maxBytes (data, CIDs and overhead)
// and maxEntries blocks.
func NewCache(maxBytes, maxEntries int) *Cache {
	return &Cache{maxBytes: maxBytes, maxEntries: maxEntries}
}

func entryCost(c cid.Cid, data []byte) int { return len(data) + c.ByteLen() + cacheEntryOverhead }

func (bc *Cache) Add(bs []blocks.Block) {
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
	for (bc.cost > bc.maxBytes || len(bc.m) > bc.maxEntries || len(bc.order) > 2*bc.maxEntries) && len(bc.order) > 0 {
		c := bc.order[0]
		bc.order = bc.order[1:]
		if d, ok := bc.m[c]; ok {
			bc.cost -= entryCost(c, d)
			delete(bc.m, c)
		}
	}
	// order's backing array only grows at its end: copy it down when
	// most of it is behind the head.
	if cap(bc.order) > 2*bc.maxEntries && len(bc.order) < cap(bc.order)/4 {
		bc.order = slices.Clone(bc.order)
	}
}

// Take returns c's block and forgets it.
func (bc *Cache) Take(c cid.Cid) ([]byte, bool) {
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

// Wait returns once c is held, or after d, or when ctx ends; it reports
// whether c is held.
func (bc *Cache) Wait(ctx context.Context, c cid.Cid, d time.Duration) bool {
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

// Stats returns the entries held and their cost in bytes.
func (bc *Cache) Stats() (entries, cost int) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	return len(bc.m), bc.cost
}
