package blockstore

import (
	"context"
	"fmt"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	"github.com/multiformats/go-multihash"
)

// blocksPrefix is where boxo's blockstore keeps blocks in the datastore.
const blocksPrefix = "/blocks"

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
	res.Kept = len(marked)
	// One pass over the keys, with their sizes, finds what to delete.
	doomed, sizes, err := s.unmarked(ctx, marked)
	if err != nil {
		return res, err
	}
	for i, k := range doomed {
		if err := s.blocks.DeleteBlock(ctx, k); err != nil {
			return res, fmt.Errorf("failed to delete block %s: %w", k, err)
		}
		res.Removed++
		res.FreedBytes += sizes[i]
	}
	if res.Removed > 0 {
		if err := s.ds.CollectGarbage(ctx); err != nil {
			return res, fmt.Errorf("failed to reclaim value log space: %w", err)
		}
	}
	s.log.Info("garbage collected", "removed", res.Removed, "freed", res.FreedBytes, "kept", res.Kept)
	return res, nil
}

// mark returns the multihashes (as strings, so CIDv0 and CIDv1 of one block
// are one entry, as in the block store's keys) of every pinned block and
// every block reachable from a recursive pin or a registered root.
func (s *Store) mark(ctx context.Context) (map[string]struct{}, error) {
	set := map[string]struct{}{}
	visit := func(c cid.Cid) bool {
		k := string(c.Hash())
		if _, ok := set[k]; ok {
			return false
		}
		set[k] = struct{}{}
		return true
	}
	pins, err := s.allRoots(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range pins {
		if !p.Recursive {
			visit(p.Key)
			continue
		}
		if err := s.walk(ctx, p.Key, visit); err != nil {
			return nil, fmt.Errorf("failed to walk pinned DAG %s (a block is missing or damaged; GC stopped so nothing more is lost; fetch the DAG again with 'peer ipfs pin add %s'): %w", p.Key, p.Key, err)
		}
	}
	return set, nil
}

// unmarked lists the blocks whose multihash is not in marked, with their
// sizes, from one query over the block keys.
func (s *Store) unmarked(ctx context.Context, marked map[string]struct{}) ([]cid.Cid, []int64, error) {
	res, err := s.ds.Query(ctx, dsq.Query{Prefix: blocksPrefix, KeysOnly: true, ReturnsSizes: true})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to list blocks: %w", err)
	}
	defer res.Close()
	var keys []cid.Cid
	var sizes []int64
	for r := range res.Next() {
		if r.Error != nil {
			return nil, nil, fmt.Errorf("failed to list blocks: %w", r.Error)
		}
		mh, err := dshelp.DsKeyToMultihash(ds.NewKey(ds.RawKey(r.Key).BaseNamespace()))
		if err != nil {
			s.log.Warn("skipping a block key that is not a multihash", "key", r.Key, "err", err)
			continue
		}
		if _, ok := marked[string(mh)]; !ok {
			keys = append(keys, cid.NewCidV1(cid.Raw, mh))
			sizes = append(sizes, int64(r.Size))
		}
	}
	return keys, sizes, nil
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
