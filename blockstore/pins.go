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
