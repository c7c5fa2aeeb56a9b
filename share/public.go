package share

import (
	"context"
	"fmt"

	ft "github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"

	"github.com/peer-cloud/peer/vault"
)

// PublicIndex writes the account's public index (SPEC.md section 17.6): a
// plain UnixFS folder (dag-pb, CIDv1) holding each published name, in
// name order, linking to its DAG, so that any IPFS node reads it at
// /ipns/ACCOUNT/public/NAME. It returns cid.Undef when nothing is
// published. The folder is made from the names alone: a device need not
// hold the DAGs it links to.
func (s *State) PublicIndex(ctx context.Context, v *vault.Vault) (cid.Cid, error) {
	pubs := s.Public()
	if len(pubs) == 0 {
		return cid.Undef, nil
	}
	nd := ft.EmptyDirNode()
	if err := nd.SetCidBuilder(cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256}); err != nil {
		return cid.Undef, err
	}
	for _, p := range pubs {
		if err := nd.AddRawLink(p.Name, &ipld.Link{Name: p.Name, Size: p.Tsize, Cid: p.CID}); err != nil {
			return cid.Undef, fmt.Errorf("failed to make the public index: %w", err)
		}
	}
	blk, err := blocks.NewBlockWithCid(nd.RawData(), nd.Cid())
	if err != nil {
		return cid.Undef, err
	}
	if err := v.Blocks().Put(ctx, []blocks.Block{blk}); err != nil {
		return cid.Undef, fmt.Errorf("failed to store the public index: %w", err)
	}
	s.mu.Lock()
	s.lastIndex = blk.Cid()
	s.mu.Unlock()
	return blk.Cid(), nil
}
