package p2p

import (
	"context"
	"errors"
	"fmt"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/peer-cloud/peer/blockstore"
)

// DAGLimits bound what FetchDAGLimited may fetch.
type DAGLimits struct {
	// Links returns the links of a block to follow, or an error for a
	// block that does not belong in the DAG (which stops the fetch).
	Links func(blocks.Block) ([]cid.Cid, error)
	// MaxNewBytes caps the bytes fetched from peers (blocks already held
	// do not count); 0 means no cap.
	MaxNewBytes int64
	// Progress, if not nil, is called after each block.
	Progress func(Progress)
}

// ErrTooBig is wrapped by FetchDAGLimited when a DAG needs more than
// DAGLimits.MaxNewBytes.
var ErrTooBig = errors.New("the DAG is bigger than the fetch may take")

// FetchDAG makes every block of the DAG under root local, asking peers for
// up to the node's fetch window of blocks at once. Blocks already local are
// not fetched again. progress, if not nil, is called after each block.
func (n *Node) FetchDAG(ctx context.Context, root cid.Cid, progress func(Progress)) error {
	return n.FetchDAGLimited(ctx, root, DAGLimits{Links: blockstore.Links, Progress: progress})
}

// FetchDAGLimited makes every block of the DAG under root local, as
// FetchDAG does, but follows only the links lim.Links returns and stops
// once more than lim.MaxNewBytes came from peers. Blocks already held are
// read locally and walked, not counted against the cap.
func (n *Node) FetchDAGLimited(ctx context.Context, root cid.Cid, lim DAGLimits) error {
	ctx, cancel := context.WithCancel(ctx)
	w := newWindow(ctx, n.bserv, n.window)
	defer func() { cancel(); w.wg.Wait() }()

	bs := n.store.Blockstore()
	seen := cid.NewSet()
	seen.Add(root)
	local := []cid.Cid{root}
	var remote []cid.Cid
	var p Progress
	var fetched int64
	counted := func(size int) {
		p.Blocks++
		p.Bytes += int64(size)
		if lim.Progress != nil {
			lim.Progress(p)
		}
	}
	walk := func(b blocks.Block) error {
		ls, err := lim.Links(b)
		if err != nil {
			return fmt.Errorf("failed to fetch DAG %s: %w", root, err)
		}
		for _, l := range ls {
			if seen.Visit(l) {
				local = append(local, l)
			}
		}
		counted(len(b.RawData()))
		return nil
	}
	for len(local) > 0 || len(remote) > 0 || w.pending > 0 {
		// Blocks held are walked here; the rest go to the window.
		for len(local) > 0 {
			c := local[len(local)-1]
			local = local[:len(local)-1]
			if c.Prefix().Codec == cid.Raw {
				// A raw block links nowhere: held is all there is to
				// know, and reading each chunk of 10 000 small files
				// again after a pull brought them was a third of
				// taking them in.
				size, err := bs.GetSize(ctx, c)
				if ipld.IsNotFound(err) {
					remote = append(remote, c)
					continue
				}
				if err != nil {
					return fmt.Errorf("failed to read block %s: %w", c, err)
				}
				counted(size)
				continue
			}
			b, err := bs.Get(ctx, c)
			if ipld.IsNotFound(err) {
				remote = append(remote, c)
				continue
			}
			if err != nil {
				return fmt.Errorf("failed to read block %s: %w", c, err)
			}
			if err := walk(b); err != nil {
				return err
			}
		}
		for k := min(w.free(), len(remote)); k > 0; k = min(w.free(), len(remote)) {
			w.request(remote[:k])
			remote = remote[k:]
		}
		if w.pending == 0 {
			continue
		}
		b, err := w.next()
		if err != nil {
			return fmt.Errorf("failed to fetch DAG %s after %d blocks: %w", root, p.Blocks, err)
		}
		fetched += int64(len(b.RawData()))
		if lim.MaxNewBytes > 0 && fetched > lim.MaxNewBytes {
			return fmt.Errorf("failed to fetch DAG %s: more than %d new bytes: %w", root, lim.MaxNewBytes, ErrTooBig)
		}
		if err := walk(b); err != nil {
			return err
		}
	}
	return nil
}
