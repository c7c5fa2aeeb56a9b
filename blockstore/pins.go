package blockstore

import (
	"context"
	"fmt"

	cid "github.com/ipfs/go-cid"
)

// Pin is a pinned root.
type Pin struct {
	Key cid.Cid
	// Recursive pins keep the whole DAG under Key; direct pins the block.
	Recursive bool
}

// Pins lists every recursive and direct pin.
func (s *Store) Pins(ctx context.Context) ([]Pin, error) {
	var out []Pin
	for _, recursive := range []bool{true, false} {
		ch := s.pinner.DirectKeys(ctx, false)
		if recursive {
			ch = s.pinner.RecursiveKeys(ctx, false)
		}
		for p := range ch {
			if p.Err != nil {
				return nil, fmt.Errorf("failed to list pins: %w", p.Err)
			}
			out = append(out, Pin{Key: p.Pin.Key, Recursive: recursive})
		}
	}
	return out, nil
}

// allRoots returns the pins and the kept roots (as recursive pins): what
// GC keeps and Verify checks.
func (s *Store) allRoots(ctx context.Context) ([]Pin, error) {
	pins, err := s.Pins(ctx)
	if err != nil {
		return nil, err
	}
	s.rootsMu.Lock()
	fns := append([]RootsFunc(nil), s.roots...)
	direct := append([]RootsFunc(nil), s.direct...)
	s.rootsMu.Unlock()
	for i, f := range append(fns, direct...) {
		roots, err := f(ctx)
		if err != nil {
			return nil, fmt.Errorf("failed to list roots to keep: %w", err)
		}
		for _, r := range roots {
			pins = append(pins, Pin{Key: r, Recursive: i < len(fns)})
		}
	}
	return pins, nil
}
