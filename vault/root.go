package vault

import (
	"context"
	"fmt"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// Root is the object an account's IPNS name points to (SPEC.md, "Account
// root"). It is in clear: its links let any node pin the account's whole
// DAG, and the certificates let peers check the account's devices.
type Root struct {
	Devices [][]byte  // device certificates (DAG-CBOR, section 10)
	Box     [32]byte  // the X25519 key others wrap file keys to
	Head    cid.Cid   // the head snapshot; undefined for an empty vault
	Public  cid.Cid   // the public index; undefined until there is one
	Shares  []cid.Cid // sealed share envelopes (none yet)
	// Revoked are the account's device revocations (DAG-CBOR, see
	// ParseRevocation), sorted by the bytes of the device removed.
	Revoked [][]byte
	// Keys is the newest key epoch's record (see ParseKeysRecord); nil
	// while the keys were never rotated.
	Keys []byte
}

type rootNode struct {
	Type    string   `cbor:"type"`
	V       int      `cbor:"v"`
	Devices [][]byte `cbor:"devices"`
	Box     []byte   `cbor:"box"`
	Head    *Link    `cbor:"head,omitempty"`
	Public  *Link    `cbor:"public,omitempty"`
	Shares  []Link   `cbor:"shares"`
	Revoked [][]byte `cbor:"revoked,omitempty"`
	Keys    []byte   `cbor:"keys,omitempty"`
}

// WriteRoot stores r and returns its CID.
func (v *Vault) WriteRoot(ctx context.Context, r Root) (cid.Cid, error) {
	n := rootNode{Type: "root", V: 1, Devices: r.Devices, Box: r.Box[:], Revoked: r.Revoked, Keys: r.Keys}
	if r.Head.Defined() {
		n.Head = &Link{r.Head}
	}
	if r.Public.Defined() {
		n.Public = &Link{r.Public}
	}
	for _, s := range r.Shares {
		n.Shares = append(n.Shares, Link{s})
	}
	b, err := marshal(n)
	if err != nil {
		return cid.Undef, err
	}
	blk, err := newBlock(cborPrefix, b)
	if err != nil {
		return cid.Undef, err
	}
	if err := v.blocks.Put(ctx, []blocks.Block{blk}); err != nil {
		return cid.Undef, fmt.Errorf("failed to store the account root: %w", err)
	}
	return blk.Cid(), nil
}

// ReadRoot reads an account root; it needs no key.
func ReadRoot(ctx context.Context, bs Blocks, c cid.Cid) (*Root, error) {
	var n rootNode
	if err := decodeNode(ctx, bs, c, "account root", "root", &n); err != nil {
		return nil, err
	}
	if n.V != 1 || len(n.Box) != 32 {
		return nil, &DamagedError{CID: c, What: "account root", Err: fmt.Errorf("version %d, box key of %d bytes", n.V, len(n.Box))}
	}
	r := &Root{Devices: n.Devices, Revoked: n.Revoked, Keys: n.Keys}
	copy(r.Box[:], n.Box)
	if n.Head != nil {
		if n.Head.Prefix().Codec != cid.DagCBOR {
			return nil, &DamagedError{CID: c, What: "account root", Err: fmt.Errorf("head is not a dag-cbor link")}
		}
		r.Head = n.Head.Cid
	}
	if n.Public != nil {
		r.Public = n.Public.Cid
	}
	for _, s := range n.Shares {
		r.Shares = append(r.Shares, s.Cid)
	}
	return r, nil
}
