package vault

import (
	"fmt"
	"slices"

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

// Links returns what a vault block links to, read from the node's clear
// part (no key needed): nothing for a chunk; a snapshot's tree and
// parents; a file version's previous version and its chunks or parts; a
// folder node's entries or shards; a part node's chunks or parts; an
// account root's head, public index and shares. Blocks that are no vault
// object, or not in the vault's strict encoding, are an error.
func Links(c cid.Cid, data []byte) ([]cid.Cid, error) {
	kind, err := BlockKind(c, data)
	if err != nil {
		return nil, err
	}
	var out []cid.Cid
	add := func(ls ...Link) {
		for _, l := range ls {
			out = append(out, l.Cid)
		}
	}
	var node any
	switch kind {
	case "raw":
		return nil, nil
	case "snap":
		node = &snapNode{}
	case "file":
		node = &fileNode{}
	case "part":
		node = &partNode{}
	case "dir":
		node = &dirNode{}
	case "root":
		node = &rootNode{}
	case "share":
		node = &shareNode{}
	case "envelope":
		node = &envelopeNode{}
	case "pub":
		node = &pubNode{}
	default:
		return nil, nil // a device certificate links nowhere
	}
	if err := unmarshal(data, node); err != nil {
		return nil, &DamagedError{CID: c, What: kindNames[kind], Err: err}
	}
	// In the order of the keys in the encoding, as a generic DAG-CBOR
	// walk finds them.
	switch n := node.(type) {
	case *snapNode:
		add(n.Tree)
		add(n.Parents...)
	case *fileNode:
		if n.Prev != nil {
			add(*n.Prev)
		}
		add(n.Links...)
	case *partNode:
		add(n.Links...)
	case *dirNode:
		add(n.Links...)
	case *shareNode:
		add(n.Links...)
	case *envelopeNode:
		add(n.Links...)
	case *pubNode:
		add(n.Links...)
	case *rootNode:
		if n.Head != nil {
			add(*n.Head)
		}
		add(n.Shares...)
		if n.Public != nil {
			add(*n.Public)
		}
	}
	return out, nil
}

// LinksWithin returns the links of a block that must be a chunk or one of
// the node kinds given (a fetch of a snapshot's history takes "snap",
// "dir", "file", "part"; of one tree, the last three): anything else is
// refused, as is a link that is not a vault CID, so a walk goes nowhere
// the vault does not write.
func LinksWithin(c cid.Cid, data []byte, kinds ...string) ([]cid.Cid, error) {
	kind, err := BlockKind(c, data)
	if err != nil {
		return nil, err
	}
	if kind == "raw" {
		return nil, nil
	}
	if !slices.Contains(kinds, kind) {
		return nil, fmt.Errorf("block %s is %s, which has no place here", c, kindNames[kind])
	}
	ls, err := Links(c, data)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if err := CheckCID(l); err != nil {
			return nil, err
		}
	}
	return ls, nil
}
