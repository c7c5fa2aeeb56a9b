package vault

import (
	"context"
	"errors"
	"fmt"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/multiformats/go-multihash"
)

// Blocks is all the vault needs of a block store. Get returns an error
// wrapping ErrMissing when the block is not there. Put must not keep the
// blocks' byte slices after it returns: the vault reuses them.
type Blocks interface {
	Get(ctx context.Context, c cid.Cid) ([]byte, error)
	Put(ctx context.Context, blks []blocks.Block) error
}

// LocalBlocks gives the vault a boxo block store, whose "not found"
// becomes ErrMissing.
func LocalBlocks(bs bstore.Blockstore) Blocks { return localBlocks{bs} }

type localBlocks struct{ bs bstore.Blockstore }

func (s localBlocks) Get(ctx context.Context, c cid.Cid) ([]byte, error) {
	b, err := s.bs.Get(ctx, c)
	if ipld.IsNotFound(err) {
		return nil, fmt.Errorf("%s: %w", c, ErrMissing)
	}
	if err != nil {
		return nil, err
	}
	return b.RawData(), nil
}

func (s localBlocks) Put(ctx context.Context, bs []blocks.Block) error { return s.bs.PutMany(ctx, bs) }

func (s localBlocks) Has(ctx context.Context, c cid.Cid) (bool, error) { return s.bs.Has(ctx, c) }

// hasBlocks is Blocks that can say cheaply whether a block is held.
type hasBlocks interface {
	Has(ctx context.Context, c cid.Cid) (bool, error)
}

// Holds reports whether bs holds block c, when bs can say so cheaply (it
// has a Has method, as LocalBlocks and the wrappers over them do); true
// when it cannot.
func Holds(ctx context.Context, bs Blocks, c cid.Cid) bool {
	hb, ok := bs.(hasBlocks)
	if !ok {
		return true
	}
	has, err := hb.Has(ctx, c)
	return err == nil && has
}

// ErrMissing is wrapped by Blocks.Get when a block is not held.
var ErrMissing = errors.New("block not held")

// MissingError says which block is missing and what holds it.
type MissingError struct {
	CID  cid.Cid
	What string // "chunk 3 of /a/b.txt", "directory /a", ...
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("block %s (%s) is not held by this node; bring a device that has it online, or restore an older version with 'peer history'", e.CID, e.What)
}

func (e *MissingError) Unwrap() error { return ErrMissing }

// DamagedError says a block was read but is not what its place expects.
type DamagedError struct {
	CID  cid.Cid
	What string
	Err  error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("block %s (%s) is damaged or not ours: %v; restore an older version with 'peer history', or re-add the file", e.CID, e.What, e.Err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// cborPrefix and rawPrefix make the CIDs of vault blocks: CIDv1, SHA-256.
var (
	cborPrefix = cid.Prefix{Version: 1, Codec: cid.DagCBOR, MhType: multihash.SHA2_256, MhLength: -1}
	rawPrefix  = cid.Prefix{Version: 1, Codec: cid.Raw, MhType: multihash.SHA2_256, MhLength: -1}
)

// newBlock wraps data in a block with a CID of the given prefix.
func newBlock(p cid.Prefix, data []byte) (blocks.Block, error) {
	c, err := p.Sum(data)
	if err != nil {
		return nil, err
	}
	return blocks.NewBlockWithCid(data, c)
}

// getBlock reads a block, turning a missing one into a MissingError that
// names what it was.
func getBlock(ctx context.Context, bs Blocks, c cid.Cid, what string) ([]byte, error) {
	b, err := bs.Get(ctx, c)
	if errors.Is(err, ErrMissing) {
		return nil, &MissingError{CID: c, What: what}
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read %s (block %s): %w", what, c, err)
	}
	return b, nil
}

// kindNames say what each node type is, for errors.
var kindNames = map[string]string{"file": "a file version", "part": "part of a file", "dir": "a folder", "snap": "a snapshot", "device": "a device certificate", "root": "an account root", "share": "a share", "envelope": "a share envelope", "pub": "a public index entry", "contacts": "the contacts"}

// errType is wrapped by the error about a node of another kind than its
// place wants.
var errType = errors.New("wrong kind of node")

// errVersion is wrapped by the error about a node of a format version
// other than 1.
var errVersion = errors.New("unknown format version")

func versionError(v int64) error {
	return fmt.Errorf("%w %d; this peer reads version 1 (a newer peer wrote it: upgrade)", errVersion, v)
}

// decodeNode reads a DAG-CBOR node whose type field must be want into v.
func decodeNode(ctx context.Context, bs Blocks, c cid.Cid, what, want string, v any) error {
	if c.Prefix().Codec != cid.DagCBOR {
		return &DamagedError{CID: c, What: what, Err: fmt.Errorf("codec 0x%x, want dag-cbor", c.Prefix().Codec)}
	}
	b, err := getBlock(ctx, bs, c, what)
	if err != nil {
		return err
	}
	// The order of checks is SPEC.md's ("Order of checks"): the kind and
	// version first, then every key.
	got, version, err := peekHead(b)
	if err != nil {
		return &DamagedError{CID: c, What: what, Err: err}
	}
	if got != want {
		name, ok := kindNames[got]
		if !ok {
			name = "not a vault object"
		}
		return &DamagedError{CID: c, What: what, Err: fmt.Errorf("%w: it is %s, not %s", errType, name, kindNames[want])}
	}
	if version != 1 {
		return &DamagedError{CID: c, What: what, Err: versionError(version)}
	}
	if err := unmarshal(b, v); err != nil {
		return &DamagedError{CID: c, What: what, Err: err}
	}
	return nil
}
