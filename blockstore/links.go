package blockstore

import (
	"bytes"
	"fmt"

	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/ipld/go-ipld-prime/traversal"
)

// Links returns the CIDs a block links to. It understands raw (no links),
// dag-pb and dag-cbor, the codecs peer writes; any other codec is an error,
// since a walk that skipped its links would let GC delete live blocks.
func Links(b blocks.Block) ([]cid.Cid, error) {
	c := b.Cid()
	switch c.Prefix().Codec {
	case cid.Raw:
		return nil, nil
	case cid.DagProtobuf:
		nd, err := merkledag.DecodeProtobufBlock(b)
		if err != nil {
			return nil, fmt.Errorf("failed to decode dag-pb block %s: %w", c, err)
		}
		ls := nd.Links()
		out := make([]cid.Cid, len(ls))
		for i, l := range ls {
			out[i] = l.Cid
		}
		return out, nil
	case cid.DagCBOR:
		nb := basicnode.Prototype.Any.NewBuilder()
		if err := dagcbor.Decode(nb, bytes.NewReader(b.RawData())); err != nil {
			return nil, fmt.Errorf("failed to decode dag-cbor block %s: %w", c, err)
		}
		ls, err := traversal.SelectLinks(nb.Build())
		if err != nil {
			return nil, fmt.Errorf("failed to read links of %s: %w", c, err)
		}
		out := make([]cid.Cid, 0, len(ls))
		for _, l := range ls {
			cl, ok := l.(cidlink.Link)
			if !ok {
				return nil, fmt.Errorf("block %s has a link that is not a CID", c)
			}
			out = append(out, cl.Cid)
		}
		return out, nil
	}
	return nil, fmt.Errorf("block %s has codec 0x%x, which peer cannot walk", c, c.Prefix().Codec)
}
