package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
)

// Snapshot is one state of the account's tree: the account's history is
// the DAG of snapshots through their parents.
type Snapshot struct {
	CID     cid.Cid
	Tree    cid.Cid
	RootKey [32]byte
	Parents []cid.Cid
	Device  string
	Time    int64 // unix nanoseconds
	Seq     uint64
}

// snapNode is a snapshot as stored (SPEC.md, "Snapshot").
type snapNode struct {
	Type    string `cbor:"type"`
	V       int    `cbor:"v"`
	Tree    Link   `cbor:"tree"`
	Parents []Link `cbor:"parents"`
	Body    []byte `cbor:"body"`
}

type snapBody struct {
	Root   []byte `cbor:"root"`
	Device string `cbor:"device"`
	Time   int64  `cbor:"time"`
	Seq    uint64 `cbor:"seq"`
}

// Commit flushes t and stores it with a new snapshot whose parents are
// parents (none for the first). Its sequence number is one more than the
// highest of its parents.
func (v *Vault) Commit(ctx context.Context, t *Tree, parents ...*Snapshot) (*Snapshot, error) {
	return v.commit(ctx, t, parents, v.device, v.now().UnixNano())
}

func (v *Vault) commit(ctx context.Context, t *Tree, parents []*Snapshot, device string, time int64) (*Snapshot, error) {
	root, blks, err := t.Flush(ctx)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Tree: root, RootKey: t.root.key, Device: device, Time: time, Seq: 1}
	var links []Link
	for _, p := range parents {
		s.Parents = append(s.Parents, p.CID)
		links = append(links, Link{p.CID})
		s.Seq = max(s.Seq, p.Seq+1)
	}
	ep := v.acct.cur()
	blk, err := v.sealNode(&ep.index, adSnap, snapBody{Root: s.RootKey[:], Device: s.Device, Time: s.Time, Seq: s.Seq}, func(sealed []byte) bodiless {
		return snapNode{Type: "snap", V: 1, Tree: Link{root}, Parents: links, Body: sealed}
	})
	if err != nil {
		return nil, fmt.Errorf("failed to seal snapshot: %w", err)
	}
	if err := v.blocks.Put(ctx, append(blks, blk)); err != nil {
		return nil, fmt.Errorf("failed to store snapshot: %w", err)
	}
	s.CID = blk.Cid()
	return s, nil
}

// OpenSnapshot reads the snapshot c.
func (v *Vault) OpenSnapshot(ctx context.Context, c cid.Cid) (*Snapshot, error) {
	what := "snapshot"
	var n snapNode
	if err := decodeNode(ctx, v.blocks, c, what, "snap", &n); err != nil {
		return nil, err
	}
	damaged := func(err error) error { return &DamagedError{CID: c, What: what, Err: err} }
	var b snapBody
	if err := openNodeAny(n, adSnap, v.acct.indexKeys(), &b); err != nil {
		return nil, damaged(err)
	}
	if len(b.Root) != 32 || b.Seq == 0 {
		return nil, damaged(errors.New("root key is not 32 bytes or seq is 0"))
	}
	if n.Tree.Prefix().Codec != cid.DagCBOR {
		return nil, damaged(errors.New("tree is not a dag-cbor link"))
	}
	s := &Snapshot{CID: c, Tree: n.Tree.Cid, Device: b.Device, Time: b.Time, Seq: b.Seq}
	copy(s.RootKey[:], b.Root)
	for _, p := range n.Parents {
		s.Parents = append(s.Parents, p.Cid)
	}
	return s, nil
}

// OpenTree returns the snapshot's tree.
func (s *Snapshot) OpenTree(v *Vault) *Tree { return v.OpenTree(s.Tree, s.RootKey) }
