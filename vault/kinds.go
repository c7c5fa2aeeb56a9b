package vault

import (
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// CheckCID reports whether c has the form of a CID the vault writes:
// CIDv1, SHA-256 of 32 bytes, DAG-CBOR or raw (SPEC.md, "Blocks"). A
// device taking in another's blocks refuses anything else, so a peer
// cannot make it store or walk blocks of kinds the vault never writes.
func CheckCID(c cid.Cid) error {
	p := c.Prefix()
	if p.Version != 1 || p.MhType != multihash.SHA2_256 || p.MhLength != 32 {
		return fmt.Errorf("block %s is not CIDv1 with a SHA-256 hash, as vault blocks are", c)
	}
	if p.Codec != cid.DagCBOR && p.Codec != cid.Raw {
		return fmt.Errorf("block %s has codec 0x%x; vault blocks are dag-cbor or raw", c, p.Codec)
	}
	return nil
}

// BlockKind returns the kind of a vault block: "raw" for a sealed chunk,
// else the node's type ("root", "snap", "dir", "file", "part",
// "device"). It fails for a block the vault would not write. Only the
// CID's form and the node's type field are checked, not the node itself.
func BlockKind(c cid.Cid, data []byte) (string, error) {
	if err := CheckCID(c); err != nil {
		return "", err
	}
	if c.Prefix().Codec == cid.Raw {
		return "raw", nil
	}
	t := peekType(data)
	if _, ok := kindNames[t]; !ok {
		return "", fmt.Errorf("block %s is not a vault object", c)
	}
	return t, nil
}

// SnapshotLinks returns what a snapshot block links to: its tree and its
// parents, read from the node's clear part (no key needed).
func SnapshotLinks(c cid.Cid, data []byte) (tree cid.Cid, parents []cid.Cid, err error) {
	if kind, err := BlockKind(c, data); err != nil || kind != "snap" {
		if err == nil {
			err = fmt.Errorf("block %s is %s, not a snapshot", c, kind)
		}
		return cid.Undef, nil, err
	}
	var n snapNode
	if err := unmarshal(data, &n); err != nil {
		return cid.Undef, nil, &DamagedError{CID: c, What: "snapshot", Err: err}
	}
	for _, p := range n.Parents {
		parents = append(parents, p.Cid)
	}
	return n.Tree.Cid, parents, nil
}
