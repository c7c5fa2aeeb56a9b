package blockstore

import (
	"context"
	"errors"
	"fmt"

	bstore "github.com/ipfs/boxo/blockstore"
	cid "github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/multiformats/go-multihash"
)

// GCResult says what a garbage collection removed.
type GCResult struct {
	// Removed is the number of blocks deleted.
	Removed int `json:"removed"`
	// FreedBytes is the sum of their sizes.
	FreedBytes int64 `json:"freed_bytes"`
	// Kept is the number of blocks that pins still need.
	Kept int `json:"kept"`
}

// GC deletes every block that no pin reaches, then lets Badger reclaim the
// space of its value log. It holds the GC lock for the whole mark and
// sweep, so blocks being added under a PinLock (an import that has not
// pinned its root yet) are never removed. A pinned DAG with a block missing
// locally aborts the collection: a store that lost blocks should not lose
// more.
func (s *Store) GC(ctx context.Context) (GCResult, error) {
	var res GCResult
	unlock := s.blocks.GCLock(ctx)
	defer unlock.Unlock(ctx)

	marked, err := s.mark(ctx)
	if err != nil {
		return res, err
	}
	res.Kept = marked.Len()
	keys, errf, err := allKeys(ctx, s.blocks)
	if err != nil {
		return res, fmt.Errorf("failed to list blocks: %w", err)
	}
	var doomed []cid.Cid
	for k := range keys {
		if !marked.Has(k.Hash()) {
			doomed = append(doomed, k)
		}
	}
	if err := errf(); err != nil {
		return res, fmt.Errorf("failed to list blocks: %w", err)
	}
	for _, k := range doomed {
		size, err := s.blocks.GetSize(ctx, k)
		if err != nil && !errors.Is(err, ipld.ErrNotFound{Cid: k}) {
			size = 0
		}
		if err := s.blocks.DeleteBlock(ctx, k); err != nil {
			return res, fmt.Errorf("failed to delete block %s: %w", k, err)
		}
		res.Removed++
		res.FreedBytes += int64(size)
	}
	if res.Removed > 0 {
		if err := s.ds.CollectGarbage(ctx); err != nil {
			return res, fmt.Errorf("failed to reclaim value log space: %w", err)
		}
	}
	s.log.Info("garbage collected", "removed", res.Removed, "freed", res.FreedBytes, "kept", res.Kept)
	return res, nil
}

// multihashSet is a set of multihashes (as strings), so CIDv0 and CIDv1 of
// one block are one entry, as in the block store's keys.
type multihashSet map[string]struct{}

func (m multihashSet) Has(h []byte) bool { _, ok := m[string(h)]; return ok }
func (m multihashSet) Len() int          { return len(m) }

// mark returns the multihashes of every block reachable from a pin.
func (s *Store) mark(ctx context.Context) (multihashSet, error) {
	set := multihashSet{}
	visit := func(c cid.Cid) bool {
		k := string(c.Hash())
		if _, ok := set[k]; ok {
			return false
		}
		set[k] = struct{}{}
		return true
	}
	for p := range s.pinner.RecursiveKeys(ctx, false) {
		if p.Err != nil {
			return nil, fmt.Errorf("failed to list pins: %w", p.Err)
		}
		root := p.Pin.Key
		if err := s.walk(ctx, root, visit); err != nil {
			return nil, fmt.Errorf("failed to walk pinned DAG %s (a block is missing or damaged; GC stopped so nothing more is lost; fetch the DAG again with 'peer ipfs pin add %s'): %w", root, root, err)
		}
	}
	for p := range s.pinner.DirectKeys(ctx, false) {
		if p.Err != nil {
			return nil, fmt.Errorf("failed to list pins: %w", p.Err)
		}
		visit(p.Pin.Key)
	}
	for p := range s.pinner.InternalPins(ctx, false) {
		if p.Err != nil {
			return nil, fmt.Errorf("failed to list pins: %w", p.Err)
		}
		visit(p.Pin.Key)
	}
	return set, nil
}

// allKeys lists every block key, with a function that reports whether the
// listing ended early because of an error.
func allKeys(ctx context.Context, bs bstore.Blockstore) (<-chan cid.Cid, func() error, error) {
	if e, ok := bs.(interface {
		AllKeysChanWithErr(context.Context) (<-chan cid.Cid, func() error, error)
	}); ok {
		return e.AllKeysChanWithErr(ctx)
	}
	ch, err := bs.AllKeysChan(ctx)
	return ch, func() error { return nil }, err
}

// walk calls visit on root and every block below it, depth first; visit
// returns false to skip a block's children (already seen).
func (s *Store) walk(ctx context.Context, root cid.Cid, visit func(cid.Cid) bool) error {
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !visit(c) {
			continue
		}
		if c.Prefix().Codec == cid.Raw || c.Prefix().MhType == multihash.IDENTITY {
			continue
		}
		b, err := s.blocks.Get(ctx, c)
		if err != nil {
			return fmt.Errorf("failed to read block %s: %w", c, err)
		}
		ls, err := Links(b)
		if err != nil {
			return err
		}
		stack = append(stack, ls...)
	}
	return nil
}
