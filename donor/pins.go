package donor

import (
	"context"
	"fmt"

	cid "github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/vault"
)

// directRoots lists the blocks GC keeps alone: each account root held and
// each kept snapshot block (a snapshot's parents may have been let go;
// its tree is kept whole by gcRoots).
func (s *Service) directRoots(context.Context) ([]cid.Cid, error) {
	var out []cid.Cid
	for _, m := range s.mirrorList() {
		m.mu.Lock()
		if m.h.Root.Defined() {
			out = append(out, m.h.Root)
		}
		for _, k := range m.h.Kept {
			out = append(out, k.Snap)
		}
		m.mu.Unlock()
	}
	return out, nil
}

// dropped reports whether next keeps fewer of old's snapshots.
func dropped(old, next held) bool {
	keep := map[cid.Cid]bool{}
	for _, k := range next.Kept {
		keep[k.Snap] = true
	}
	for _, k := range old.Kept {
		if !keep[k.Snap] {
			return true
		}
	}
	return false
}

// recount sets the bytes held of m's account from a walk of what it
// keeps.
func (m *mirror) recount(ctx context.Context) error {
	m.mu.Lock()
	root := m.h.Root
	ks := append([]kept(nil), m.h.Kept...)
	m.mu.Unlock()
	total, err := m.sizeOf(ctx, root, ks)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.h.Bytes = total
	m.mu.Unlock()
	return nil
}

// sizeOf returns the bytes of root and the kept snapshots with their
// trees, every block counted once.
func (m *mirror) sizeOf(ctx context.Context, root cid.Cid, ks []kept) (int64, error) {
	bs := m.s.cfg.Store.Blockstore()
	seen := map[string]bool{}
	var total int64
	size := func(c cid.Cid) error {
		k := string(c.Hash())
		if seen[k] || c.Prefix().MhType == multihash.IDENTITY {
			return nil
		}
		seen[k] = true
		n, err := bs.GetSize(ctx, c)
		if err != nil {
			return fmt.Errorf("failed to read block %s: %w", c, err)
		}
		total += int64(n)
		return nil
	}
	if root.Defined() {
		if err := size(root); err != nil {
			return 0, err
		}
	}
	for _, k := range ks {
		if err := size(k.Snap); err != nil {
			return 0, err
		}
		stack := []cid.Cid{k.Tree}
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[string(c.Hash())] {
				continue
			}
			if err := size(c); err != nil {
				return 0, err
			}
			if c.Prefix().Codec == cid.Raw {
				continue
			}
			b, err := bs.Get(ctx, c)
			if err != nil {
				return 0, fmt.Errorf("failed to read block %s: %w", c, err)
			}
			ls, err := vault.Links(c, b.RawData())
			if err != nil {
				return 0, err
			}
			stack = append(stack, ls...)
		}
	}
	return total, nil
}

// gcLater runs gc in the background; Close waits for it.
func (s *Service) gcLater() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.gc()
	}()
}

// gc frees what no pin nor root needs, after history was let go.
func (s *Service) gc() {
	if s.ctx.Err() != nil {
		return
	}
	if _, err := s.cfg.Store.GC(s.ctx); err != nil {
		s.log.Warn("failed to collect garbage after letting history go", "err", err)
	}
	s.notify()
}

var (
	_ blockstore.RootsFunc = (*Service)(nil).gcRoots
	_ blockstore.RootsFunc = (*Service)(nil).directRoots
)
