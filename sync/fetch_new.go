package sync

import (
	"context"
	"fmt"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/vault"
)

// maxCounterparts bounds the nodes a walked node is compared with.
const maxCounterparts = 64

// newWalk picks, block by block, the links a fetch of another device's
// head must follow: only what this device may lack, so that taking in a
// change costs what the change holds, not the whole history (a walk of
// every block once grew each change's cost with the vault's age).
//
// What it skips is complete, every block below it local:
//   - this device's head and its ancestors: a head is saved only after
//     every block it names is stored, and GC keeps all it reaches;
//   - a node of a complete tree. Each node walked carries counterparts,
//     complete nodes it likely replaces: for a snapshot's tree, this
//     device's head's tree and the trees of its parents that are
//     complete; for any other node, the links its counterparts have and
//     it has not. A link that is one of its counterparts, or one of their
//     links, is not followed.
//
// A tree this walk walks is no counterpart: the same folder version can
// be in two snapshots that are each other's counterparts' (a folder back
// to an earlier state on one device, on its way there on another), and
// then each skipped a block for the other to walk, and neither did (seen
// as a merge failing for a block the fetch never brought). The seen set
// of the fetch walks each block once anyway.
//
// So an unchanged folder, file or chunk under a changed one is never
// walked; a moved one is (it is read locally, not fetched).
type newWalk struct {
	ctx  context.Context
	v    *vault.Vault
	bs   bstore.Blockstore
	ours *vault.Snapshot // nil before the first change

	complete     map[cid.Cid]bool
	counterparts map[cid.Cid][]cid.Cid
	memo         *linkMemo // nil: none
}

func newNewWalk(ctx context.Context, v *vault.Vault, bs bstore.Blockstore, ours *vault.Snapshot) *newWalk {
	return &newWalk{ctx: ctx, v: v, bs: bs, ours: ours, complete: map[cid.Cid]bool{}, counterparts: map[cid.Cid][]cid.Cid{}}
}

// links is a p2p.DAGLimits.Links: the block's links within a history
// (vault.LinksWithin), less what is complete.
func (w *newWalk) links(b blocks.Block) ([]cid.Cid, error) {
	c := b.Cid()
	kind, err := vault.BlockKind(c, b.RawData())
	if err != nil {
		return nil, err
	}
	switch kind {
	case "raw":
		return nil, nil
	case "snap":
		if _, err := vault.LinksWithin(c, b.RawData(), "snap"); err != nil {
			return nil, err
		}
		return w.snapLinks(b)
	case "dir", "file", "part":
	default:
		// LinksWithin says why it has no place here.
		return vault.LinksWithin(c, b.RawData(), "snap", "dir", "file", "part")
	}
	ls, err := w.memo.links(c, b.RawData())
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	for _, l := range ls {
		if err := vault.CheckCID(l); err != nil {
			return nil, err
		}
	}
	cps := w.counterparts[c]
	delete(w.counterparts, c)
	if len(cps) == 0 {
		return ls, nil
	}
	// Sized up front: a folder leaf has up to 1 000 links, and growing
	// these maps was a fifth of a change's walk in a big folder.
	theirs := make([][]cid.Cid, len(cps))
	n := len(cps)
	for i, cp := range cps {
		cls, err := w.localLinks(cp)
		if err != nil {
			return nil, err
		}
		theirs[i] = cls
		n += len(cls)
	}
	skip := make(map[cid.Cid]bool, n)
	for _, cp := range cps {
		skip[cp] = true
	}
	var below []cid.Cid
	for _, cls := range theirs {
		for _, l := range cls {
			if !skip[l] {
				skip[l] = true
				below = append(below, l)
			}
		}
	}
	mine := make(map[cid.Cid]bool, len(ls))
	for _, l := range ls {
		mine[l] = true
	}
	var next []cid.Cid
	for _, l := range below {
		if !mine[l] && len(next) < maxCounterparts {
			next = append(next, l)
		}
	}
	var out []cid.Cid
	for _, l := range ls {
		if skip[l] {
			continue
		}
		out = append(out, l)
		w.counterparts[l] = next
	}
	return out, nil
}

// snapLinks follows a snapshot's parents unless complete, and its tree
// unless it is a complete parent's, with the complete parents' trees as
// counterparts.
func (w *newWalk) snapLinks(b blocks.Block) ([]cid.Cid, error) {
	tree, parents, err := vault.SnapshotLinks(b.Cid(), b.RawData())
	if err != nil {
		return nil, err
	}
	var out, cps []cid.Cid
	if w.ours != nil {
		cps = append(cps, w.ours.Tree)
	}
	for _, p := range parents {
		ok, err := w.isComplete(p)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, p)
			continue
		}
		pb, err := w.bs.Get(w.ctx, p)
		if ipld.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read snapshot %s: %w", p, err)
		}
		if pt, _, err := vault.SnapshotLinks(p, pb.RawData()); err == nil {
			cps = append(cps, pt)
		}
	}
	for _, cp := range cps {
		if cp.Equals(tree) {
			return out, nil
		}
	}
	w.counterparts[tree] = cps
	return append(out, tree), nil
}

// isComplete reports whether snapshot c is this device's head or one of
// its ancestors.
func (w *newWalk) isComplete(c cid.Cid) (bool, error) {
	if w.ours == nil {
		return false, nil
	}
	if c.Equals(w.ours.CID) {
		return true, nil
	}
	if ok, seen := w.complete[c]; seen {
		return ok, nil
	}
	has, err := w.bs.Has(w.ctx, c)
	if err != nil {
		return false, fmt.Errorf("failed to read snapshot %s: %w", c, err)
	}
	ok := false
	if has {
		if ok, err = w.v.IsAncestor(w.ctx, c, w.ours.CID); err != nil {
			return false, err
		}
	}
	w.complete[c] = ok
	return ok, nil
}

// localLinks returns the links of a local block; none when it is not
// local (a counterpart that is not here yet only skips nothing).
func (w *newWalk) localLinks(c cid.Cid) ([]cid.Cid, error) {
	if ls, ok := w.memo.get(c); ok {
		// Remembered, but a counterpart must still be here to vouch for
		// what is below it.
		if has, err := w.bs.Has(w.ctx, c); err != nil || !has {
			return nil, err
		}
		return ls, nil
	}
	b, err := w.bs.Get(w.ctx, c)
	if ipld.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read block %s: %w", c, err)
	}
	if c.Prefix().Codec == cid.Raw {
		return nil, nil
	}
	if ls, err := w.memo.links(c, b.RawData()); err == nil {
		return ls, nil
	}
	return blockstore.Links(b)
}
