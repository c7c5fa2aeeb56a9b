package donor

import (
	"context"
	"fmt"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/peer-cloud/peer/vault"
)

// maxCounterparts bounds the nodes a walked node is compared with.
const maxCounterparts = 64

// treeWalk picks the links a fetch of one snapshot's tree follows: only
// what the donor may lack, as sync's newWalk does for a device. Each node
// walked carries counterparts, nodes of trees held whole that it likely
// replaces (for the tree, the trees of snapshots kept); a link that is a
// counterpart or one of their links is complete and is not followed. So
// a change costs what it holds, not the size of the tree.
//
// It also counts the bytes of blocks that were not local when their link
// was followed: what the fetch added.
type treeWalk struct {
	ctx          context.Context
	bs           bstore.Blockstore
	counterparts map[cid.Cid][]cid.Cid
	absent       map[cid.Cid]bool
	added        int64
}

func newTreeWalk(ctx context.Context, bs bstore.Blockstore) *treeWalk {
	return &treeWalk{ctx: ctx, bs: bs, counterparts: map[cid.Cid][]cid.Cid{}, absent: map[cid.Cid]bool{}}
}

// start readies a walk of tree against complete trees; it reports false
// when tree is one of them (nothing to fetch).
func (w *treeWalk) start(tree cid.Cid, complete []cid.Cid) (bool, error) {
	for _, c := range complete {
		if c.Equals(tree) {
			return false, nil
		}
	}
	if len(complete) > maxCounterparts {
		complete = complete[:maxCounterparts]
	}
	w.counterparts[tree] = complete
	return true, w.note(tree)
}

// note remembers c when it is not local, to count its bytes once fetched.
func (w *treeWalk) note(c cid.Cid) error {
	has, err := w.bs.Has(w.ctx, c)
	if err != nil {
		return fmt.Errorf("failed to read block %s: %w", c, err)
	}
	if !has {
		w.absent[c] = true
	}
	return nil
}

// links is a p2p.DAGLimits.Links for a tree.
func (w *treeWalk) links(b blocks.Block) ([]cid.Cid, error) {
	c := b.Cid()
	if w.absent[c] {
		delete(w.absent, c)
		w.added += int64(len(b.RawData()))
	}
	ls, err := vault.LinksWithin(b.Cid(), b.RawData(), "dir", "file", "part")
	if err != nil || len(ls) == 0 {
		return ls, err
	}
	cps := w.counterparts[c]
	delete(w.counterparts, c)
	skip := map[cid.Cid]bool{}
	for _, cp := range cps {
		skip[cp] = true
	}
	var below []cid.Cid
	for _, cp := range cps {
		cls, err := w.localLinks(cp)
		if err != nil {
			return nil, err
		}
		for _, l := range cls {
			if !skip[l] {
				skip[l] = true
				below = append(below, l)
			}
		}
	}
	mine := map[cid.Cid]bool{}
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
		if err := w.note(l); err != nil {
			return nil, err
		}
		out = append(out, l)
		w.counterparts[l] = next
	}
	return out, nil
}

// localLinks returns the links of a local block of a complete tree.
func (w *treeWalk) localLinks(c cid.Cid) ([]cid.Cid, error) {
	if c.Prefix().Codec == cid.Raw {
		return nil, nil
	}
	b, err := w.bs.Get(w.ctx, c)
	if ipld.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read block %s: %w", c, err)
	}
	return vault.Links(c, b.RawData())
}
