package vault

import (
	"context"
	"sync"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// Batch gathers small writes into one store write: adding ten thousand
// small files would otherwise commit to the store twice per file. Large
// writes go straight through. Blocks are readable from the batch before
// Flush; the caller must Flush before anything refers to them durably.
type Batch struct {
	bs      Blocks
	max     int
	mu      sync.Mutex
	pending []blocks.Block
	byHash  map[string][]byte
	size    int
}

// NewBatch returns a Batch over bs that flushes when it holds max bytes.
func NewBatch(bs Blocks, max int) *Batch {
	return &Batch{bs: bs, max: max, byHash: map[string][]byte{}}
}

// Get reads a pending block, or the store's.
func (b *Batch) Get(ctx context.Context, c cid.Cid) ([]byte, error) {
	b.mu.Lock()
	d, ok := b.byHash[string(c.Hash())]
	b.mu.Unlock()
	if ok {
		return d, nil
	}
	return b.bs.Get(ctx, c)
}

// Has reports whether the block is pending or held by the store (true
// when the store cannot say).
func (b *Batch) Has(ctx context.Context, c cid.Cid) (bool, error) {
	b.mu.Lock()
	_, ok := b.byHash[string(c.Hash())]
	b.mu.Unlock()
	return ok || Holds(ctx, b.bs, c), nil
}

// Put keeps copies of small writes for the next flush and passes large
// ones (a quarter of the batch or more) through.
func (b *Batch) Put(ctx context.Context, bs []blocks.Block) error {
	n := 0
	for _, blk := range bs {
		n += len(blk.RawData())
	}
	if n >= b.max/4 {
		return b.bs.Put(ctx, bs)
	}
	b.mu.Lock()
	for _, blk := range bs {
		d := append([]byte(nil), blk.RawData()...)
		c, err := blocks.NewBlockWithCid(d, blk.Cid())
		if err != nil {
			b.mu.Unlock()
			return err
		}
		b.pending = append(b.pending, c)
		b.byHash[string(blk.Cid().Hash())] = d
	}
	b.size += n
	full := b.size >= b.max
	b.mu.Unlock()
	if full {
		return b.Flush(ctx)
	}
	return nil
}

// Flush writes the pending blocks.
func (b *Batch) Flush(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		return nil
	}
	if err := b.bs.Put(ctx, b.pending); err != nil {
		return err
	}
	b.pending, b.byHash, b.size = nil, map[string][]byte{}, 0
	return nil
}

// WithBlocks returns a vault like v that reads and writes through bs.
func (v *Vault) WithBlocks(bs Blocks) *Vault {
	nv := *v
	nv.blocks = bs
	return &nv
}

// Blocks returns the store the vault uses.
func (v *Vault) Blocks() Blocks { return v.blocks }
