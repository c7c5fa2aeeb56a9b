// Package announce is the wire format of block announcements (SPEC.md
// section 14, "Announced blocks"): just before its record, a device sends
// the blocks of its change on the account's blocks topic, so the others
// (and donors) take the change in without a Bitswap round trip per level
// of the DAG. Devices and donors decode and check them the same way.
package announce

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/vault"
)

// MaxMessage and MaxBlocks bound one announcement: the blocks' bytes
// plus their framing, and how many blocks it holds.
const (
	MaxMessage = account.MaxAnnounceBytes + 64<<10
	MaxBlocks  = account.MaxAnnounceBlocks
)

// Topic is the pubsub topic of an account's announced blocks; account is
// the account ID's text.
func Topic(account string) string { return "/peer/blocks/1/" + account }

// Encode writes blocks as a sequence of (uvarint CID length, CID,
// uvarint data length, data).
func Encode(bs []blocks.Block) []byte {
	var out []byte
	for _, b := range bs {
		c := b.Cid().Bytes()
		out = binary.AppendUvarint(out, uint64(len(c)))
		out = append(out, c...)
		out = binary.AppendUvarint(out, uint64(len(b.RawData())))
		out = append(out, b.RawData()...)
	}
	return out
}

// Decode reads what Encode wrote and checks every block
// against its CID. Only blocks the vault writes are accepted (CIDv1,
// SHA-256, dag-cbor or raw), at most MaxBlocks of them. The blocks
// share data's memory.
func Decode(data []byte) ([]blocks.Block, error) {
	if len(data) > MaxMessage {
		return nil, fmt.Errorf("block announcement of %d bytes; at most %d", len(data), MaxMessage)
	}
	var out []blocks.Block
	for len(data) > 0 {
		if len(out) == MaxBlocks {
			return nil, fmt.Errorf("block announcement of more than %d blocks", MaxBlocks)
		}
		field := func() ([]byte, error) {
			n, k := binary.Uvarint(data)
			if k <= 0 || n > uint64(len(data)-k) {
				return nil, errors.New("truncated block announcement")
			}
			f := data[k : k+int(n)]
			data = data[k+int(n):]
			return f, nil
		}
		cb, err := field()
		if err != nil {
			return nil, err
		}
		d, err := field()
		if err != nil {
			return nil, err
		}
		c, err := cid.Cast(cb)
		if err != nil {
			return nil, fmt.Errorf("bad CID in block announcement: %w", err)
		}
		if err := vault.CheckCID(c); err != nil {
			return nil, err
		}
		got, err := c.Prefix().Sum(d)
		if err != nil || !got.Equals(c) {
			return nil, fmt.Errorf("announced block does not match its CID %s", c)
		}
		b, err := blocks.NewBlockWithCid(d, c)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// ErrNotDevice says an announcement's signer is not a device of the
// account.
var ErrNotDevice = errors.New("not signed by a device the account certifies")

// Check decodes data and checks that it holds exactly one account root,
// and that the root certifies author as a device of account.
func Check(ctx context.Context, data []byte, account, author peer.ID) ([]blocks.Block, error) {
	bs, err := Decode(data)
	if err != nil {
		return nil, err
	}
	held := announcedBlocks{}
	var roots []cid.Cid
	for _, b := range bs {
		held[b.Cid()] = b.RawData()
		if k, err := vault.BlockKind(b.Cid(), b.RawData()); err != nil {
			return nil, err
		} else if k == "root" {
			roots = append(roots, b.Cid())
		}
	}
	if len(roots) != 1 {
		return nil, fmt.Errorf("announcement holds %d account roots, want 1", len(roots))
	}
	root, err := vault.ReadRoot(ctx, held, roots[0])
	if err != nil {
		return nil, err
	}
	for _, cb := range root.Devices {
		c, err := vault.ParseDeviceCert(cb)
		if err == nil && c.Account == account && c.Device == author {
			return bs, nil
		}
	}
	return nil, ErrNotDevice
}

// announcedBlocks lets the vault read an account root from an
// announcement.
type announcedBlocks map[cid.Cid][]byte

func (a announcedBlocks) Get(_ context.Context, c cid.Cid) ([]byte, error) {
	if b, ok := a[c]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s: %w", c, vault.ErrMissing)
}

func (announcedBlocks) Put(context.Context, []blocks.Block) error {
	return errors.New("announcements are read-only")
}
