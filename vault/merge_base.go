package vault

import (
	"context"
	"fmt"
	"path"
	"strings"
	"sync"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// Criss-cross histories (devices that merged the same heads with other
// changes in between, or merged stale heads) give two heads several best
// common ancestors. Merging against any one of them makes what the others
// changed look like a change on one side: a file one device removed after
// a merge came back because the other merge's value differed from that one
// base (issue 15). So, as git's recursive strategy does, the bases are
// merged first into a virtual base, recursively (SPEC.md §12, "Merge
// base"). The virtual base is no snapshot: its folder nodes live in an
// overlay of the merge and are never stored.

// mergeState is what one Merge call keeps: the overlay of folder nodes no
// snapshot links to (virtual bases, folders with moves applied), and the
// virtual bases already made, by their sorted base CIDs.
type mergeState struct {
	v       *Vault // the merge's vault, reading through the overlay
	over    *overlay
	virtual map[string]*Snapshot
}

// newMergeState returns the state of one merge on v.
func (v *Vault) newMergeState() *mergeState {
	o := &overlay{under: v.blocks, m: map[string][]byte{}}
	return &mergeState{v: v.WithBlocks(o), over: o, virtual: map[string]*Snapshot{}}
}

// base returns the tree to merge a and b against: their one best common
// ancestor, the virtual merge of several, or nil when they share no
// history.
func (ms *mergeState) base(ctx context.Context, a, b *Snapshot) (*dir, *realBases, error) {
	bases, err := ms.v.MergeBases(ctx, a, b)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to find the merge base: %w", err)
	}
	if len(bases) == 0 {
		return nil, nil, nil
	}
	s, err := ms.virtualBase(ctx, bases)
	if err != nil {
		return nil, nil, err
	}
	var reals *realBases
	if len(bases) > 1 {
		reals = &realBases{done: true}
		for _, r := range bases {
			reals.dirs = append(reals.dirs, ms.v.storedDir(r.Tree, r.RootKey, "/"))
		}
	}
	return ms.v.storedDir(s.Tree, s.RootKey, "/"), reals, nil
}

// virtualBase merges bases (sorted by CID) left to right: each step is a
// three-way merge of what is merged so far and the next base against
// their own merge base, found the same way. With one base it is returned
// as it is. The result's CID is not a snapshot's; its parents are the
// bases merged, so that MergeBases finds what it descends from.
func (ms *mergeState) virtualBase(ctx context.Context, bases []*Snapshot) (*Snapshot, error) {
	if len(bases) == 1 {
		return bases[0], nil
	}
	var id strings.Builder
	for _, s := range bases {
		id.WriteString(s.CID.KeyString())
	}
	if s, ok := ms.virtual[id.String()]; ok {
		return s, nil
	}
	acc := bases[0]
	for i, s := range bases[1:] {
		bd, reals, err := ms.base(ctx, acc, s)
		if err != nil {
			return nil, err
		}
		root, err := ms.mergeTrees(ctx, bd, reals, acc, s)
		if err != nil {
			return nil, err
		}
		if err := ms.flush(ctx, root); err != nil {
			return nil, err
		}
		next := &Snapshot{Tree: root.cid, RootKey: root.key}
		for _, p := range bases[:i+2] {
			next.Parents = append(next.Parents, p.CID)
			next.Seq = max(next.Seq, p.Seq+1)
		}
		if next.CID, err = virtualCID(next.Parents); err != nil {
			return nil, err
		}
		acc = next
	}
	ms.virtual[id.String()] = acc
	return acc, nil
}

// mergeTrees merges the trees of a and b against base.
// Each side's moves are first made in the base and the other side
// (merge_moves.go).
func (ms *mergeState) mergeTrees(ctx context.Context, base *dir, reals *realBases, a, b *Snapshot) (*dir, error) {
	ad, bd := ms.v.storedDir(a.Tree, a.RootKey, "/"), ms.v.storedDir(b.Tree, b.RootKey, "/")
	if base != nil {
		var err error
		if base, ad, bd, err = ms.followMoves(ctx, base, ad, bd); err != nil {
			return nil, err
		}
	}
	return ms.v.mergeDirs(ctx, base, ad, bd, "/", reals)
}

// flush seals the changed folder nodes of d into the overlay: they get
// their CIDs, so equal folders are seen to be equal, and are read back
// from there.
func (ms *mergeState) flush(ctx context.Context, d *dir) error {
	var out []blocks.Block
	if _, err := d.flush(ctx, &out); err != nil {
		return err
	}
	return ms.over.Put(ctx, out)
}

// persist stores the overlay's folder nodes that the tree at d links to
// (a merge may keep a folder it rewrote to follow a move), so that the
// merge snapshot's blocks are all in the store, and nothing else of the
// overlay is. A folder already stored links only to stored blocks, so
// the walk goes no further than the overlay and the merge's new nodes.
func (ms *mergeState) persist(ctx context.Context, d *dir) error {
	var out []blocks.Block
	if err := ms.collect(ctx, d, &out); err != nil {
		return err
	}
	if len(out) == 0 {
		return nil
	}
	if err := ms.over.under.Put(ctx, out); err != nil {
		return fmt.Errorf("failed to store the merge: %w", err)
	}
	return nil
}

// collect adds n, if it is only in the overlay, to out, and goes on
// below it if it is new or from the overlay.
func (ms *mergeState) collect(ctx context.Context, n *dir, out *[]blocks.Block) error {
	if !n.dirty {
		if !ms.over.has(n.cid) {
			return nil // as stored
		}
		b, err := ms.over.Get(ctx, n.cid)
		if err != nil {
			return err
		}
		blk, err := blocks.NewBlockWithCid(b, n.cid)
		if err != nil {
			return fmt.Errorf("failed to store the merge: %w", err)
		}
		*out = append(*out, blk)
	}
	if err := n.load(ctx); err != nil {
		return err
	}
	n.own()
	if n.isShard() {
		for _, c := range n.slots {
			if err := ms.collect(ctx, c, out); err != nil {
				return err
			}
		}
		return nil
	}
	for _, e := range n.entries {
		if e.Kind != KindDir {
			continue
		}
		sub := e.sub
		if sub == nil {
			sub = ms.v.storedDir(e.CID, e.Key, path.Join(n.what, e.Name))
		}
		if err := ms.collect(ctx, sub, out); err != nil {
			return err
		}
	}
	return nil
}

// virtualCID names a virtual base in the ancestry walk: a raw-codec CID,
// which no snapshot has, of its parents.
func virtualCID(parents []cid.Cid) (cid.Cid, error) {
	var b []byte
	b = append(b, "peer/v1 virtual base"...)
	for _, p := range parents {
		b = append(b, p.Bytes()...)
	}
	return rawPrefix.Sum(b)
}

// overlay is a block store in memory over another one: what a merge seals
// but no snapshot may link to stays here.
type overlay struct {
	under Blocks
	mu    sync.Mutex
	m     map[string][]byte
}

func (o *overlay) has(c cid.Cid) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.m[c.KeyString()]
	return ok
}

// Get reads from the overlay, then the store under it.
func (o *overlay) Get(ctx context.Context, c cid.Cid) ([]byte, error) {
	o.mu.Lock()
	b, ok := o.m[c.KeyString()]
	o.mu.Unlock()
	if ok {
		return b, nil
	}
	return o.under.Get(ctx, c)
}

// Has reports whether the overlay or the store under it holds c (true
// when the store cannot say).
func (o *overlay) Has(ctx context.Context, c cid.Cid) (bool, error) {
	return o.has(c) || Holds(ctx, o.under, c), nil
}

// Put keeps copies of the blocks in memory.
func (o *overlay) Put(_ context.Context, bs []blocks.Block) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, b := range bs {
		o.m[b.Cid().KeyString()] = append([]byte(nil), b.RawData()...)
	}
	return nil
}
