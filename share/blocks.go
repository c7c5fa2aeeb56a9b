package share

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/blockservice"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/vault"
)

// NetBlocks reads blocks through a block service: from the store, else
// over Bitswap. A link's blocks are another account's, or this one's from
// another device, so they are fetched as they are read.
type NetBlocks struct{ BS blockservice.BlockService }

// Get returns the block c's bytes, fetching it if it is not held.
func (n NetBlocks) Get(ctx context.Context, c cid.Cid) ([]byte, error) {
	if err := vault.CheckCID(c); err != nil {
		return nil, err
	}
	b, err := n.BS.GetBlock(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("failed to fetch block %s: no peer that holds it answered in time (is the sharer, or a node that holds its blocks, on this LAN?): %w", c, err)
		}
		return nil, fmt.Errorf("failed to fetch block %s: %w", c, err)
	}
	return b.RawData(), nil
}

// Put refuses: reading a link writes nothing.
func (n NetBlocks) Put(context.Context, []blocks.Block) error {
	return fmt.Errorf("reading a link writes no block")
}
