package account

import (
	"context"
	"sync"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/vault"
)

// MaxAnnounceBytes bounds the blocks recorded for one announcement
// (pubsub messages are at most 1 MiB), and MaxAnnounceBlocks their
// number, the root block the publication adds included.
const (
	MaxAnnounceBytes  = 900 << 10
	MaxAnnounceBlocks = 1024
)

// recorder wraps the vault's block store and keeps copies of the blocks
// written while it records, up to MaxAnnounceBytes bytes.
type recorder struct {
	vault.Blocks
	mu   sync.Mutex
	on   bool
	over bool
	size int
	blks []blocks.Block
}

// Has says whether the store holds c (true when it cannot say).
func (r *recorder) Has(ctx context.Context, c cid.Cid) (bool, error) {
	return vault.Holds(ctx, r.Blocks, c), nil
}

func (r *recorder) Put(ctx context.Context, bs []blocks.Block) error {
	if err := r.Blocks.Put(ctx, bs); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on || r.over {
		return nil
	}
	for _, b := range bs {
		// A root written meanwhile is a publication's, which announces
		// it itself: recorded here, it made the next announcement hold
		// two roots, refused by every device (and its sender cut off).
		if kind, _ := vault.BlockKind(b.Cid(), b.RawData()); kind == "root" {
			continue
		}
		r.size += len(b.RawData())
		if r.size > MaxAnnounceBytes || len(r.blks) >= MaxAnnounceBlocks-1 {
			r.over, r.blks = true, nil
			return nil
		}
		c, err := blocks.NewBlockWithCid(append([]byte(nil), b.RawData()...), b.Cid())
		if err != nil {
			return nil
		}
		r.blks = append(r.blks, c)
	}
	return nil
}

// start begins recording a change.
func (r *recorder) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on, r.over, r.size, r.blks = true, false, 0, nil
}

// stop ends recording and returns the blocks; ok is false if there were
// too many.
func (r *recorder) stop() (bs []blocks.Block, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	bs, ok = r.blks, !r.over
	r.on, r.blks = false, nil
	return bs, ok
}
