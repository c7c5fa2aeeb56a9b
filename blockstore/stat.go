package blockstore

import (
	"context"
	"fmt"

	dsq "github.com/ipfs/go-datastore/query"
)

// Stat describes what the store holds.
type Stat struct {
	// Blocks is the number of blocks.
	Blocks int `json:"blocks"`
	// BlockBytes is the sum of the blocks' sizes.
	BlockBytes int64 `json:"block_bytes"`
	// DiskBytes is what the database takes on disk, including value-log
	// space not yet reclaimed.
	DiskBytes int64 `json:"disk_bytes"`
	// Pins is the number of recursive and direct pins.
	Pins int `json:"pins"`
	// Profile is the storage profile.
	Profile Profile `json:"profile"`
}

// Stat counts the blocks and their bytes. It reads every key, not every
// value: cheap even for large stores.
func (s *Store) Stat(ctx context.Context) (Stat, error) {
	st := Stat{Profile: s.profile}
	res, err := s.ds.Query(ctx, dsq.Query{Prefix: blocksPrefix, KeysOnly: true, ReturnsSizes: true})
	if err != nil {
		return st, fmt.Errorf("failed to list blocks: %w", err)
	}
	defer res.Close()
	for r := range res.Next() {
		if r.Error != nil {
			return st, fmt.Errorf("failed to list blocks: %w", r.Error)
		}
		st.Blocks++
		st.BlockBytes += int64(r.Size)
	}
	pins, err := s.Pins(ctx)
	if err != nil {
		return st, err
	}
	st.Pins = len(pins)
	if st.DiskBytes, err = s.DiskUsage(); err != nil {
		return st, err
	}
	return st, nil
}
