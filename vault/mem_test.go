package vault

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// memBlocks is an in-memory Blocks for tests of the formats; the daemon's
// tests run the vault over the real Badger store.
type memBlocks struct {
	mu   sync.Mutex
	m    map[string][]byte
	puts int // blocks put that were new
	news int // bytes of those
}

func newMem() *memBlocks { return &memBlocks{m: map[string][]byte{}} }

func (m *memBlocks) Get(_ context.Context, c cid.Cid) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.m[string(c.Hash())]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", c, ErrMissing)
	}
	return b, nil
}

func (m *memBlocks) Put(_ context.Context, bs []blocks.Block) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range bs {
		k := string(b.Cid().Hash())
		if _, ok := m.m[k]; !ok {
			m.puts++
			m.news += len(b.RawData())
		}
		m.m[k] = bytes.Clone(b.RawData())
	}
	return nil
}

// discard keeps nothing: for benchmarks of the vault's own work.
type discard struct{}

func (discard) Get(context.Context, cid.Cid) ([]byte, error) { return nil, ErrMissing }
func (discard) Put(context.Context, []blocks.Block) error    { return nil }
