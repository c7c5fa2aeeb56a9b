package vault

import (
	"context"
	"errors"
	"fmt"
	"io"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// Labels of an envelope's sealed parts (SPEC.md section 17.3).
const (
	adEnvelope      = "peer/v1 envelope"
	adEnvelopeOwner = "peer/v1 envelope owner"
)

// Envelope is a file version shared with chosen accounts, as a recipient
// opens it: who sent it, the version and its key, and the file's entry.
type Envelope struct {
	CID     cid.Cid // the envelope node
	From    string  // the sender's account ID
	Version cid.Cid
	Key     [32]byte
	Name    string
	Size    uint64
	Mtime   int64
	Mode    uint32
	Time    int64 // when it was shared
}

// Sent is an envelope as its sender keeps it: for whom, and when.
type Sent struct {
	CID        cid.Cid
	Recipients []string // account IDs
	Made       int64
}

type envelopeNode struct {
	Type  string   `cbor:"type"`
	V     int      `cbor:"v"`
	Links []Link   `cbor:"links"`
	To    []Stanza `cbor:"to"`
	Owner []byte   `cbor:"owner"`
	Body  []byte   `cbor:"body"`
}

func (n envelopeNode) withoutBody() any      { n.Body = nil; return n }
func (n envelopeNode) sealed() (int, []byte) { return n.V, n.Body }

type envelopeOwner struct {
	Recipients []string `cbor:"recipients"`
	Made       int64    `cbor:"made"`
}

type envelopeBody struct {
	From  string `cbor:"from"`
	Key   []byte `cbor:"key"`
	Name  string `cbor:"name"`
	Size  uint64 `cbor:"size"`
	Mtime int64  `cbor:"mtime"`
	Mode  uint32 `cbor:"mode"`
	Time  int64  `cbor:"time"`
}

// MaxRecipients bounds the recipients of one envelope.
const MaxRecipients = 64

// WriteEnvelope seals the file entry file for recipients (their box
// public keys, with their account IDs in the same order for the owner
// part) and stores the envelope. r gives the envelope key and the
// stanzas' ephemeral keys.
func (v *Vault) WriteEnvelope(ctx context.Context, r io.Reader, file Entry, recipients [][32]byte, ids []string, now int64) (blocks.Block, error) {
	if len(recipients) == 0 || len(recipients) > MaxRecipients || len(ids) != len(recipients) {
		return nil, fmt.Errorf("an envelope needs 1 to %d recipients, each with its account ID", MaxRecipients)
	}
	if file.Kind != KindFile {
		return nil, errors.New("an envelope carries a file")
	}
	if r == nil {
		r = v.rand
	}
	var key [32]byte
	if _, err := io.ReadFull(r, key[:]); err != nil {
		return nil, fmt.Errorf("failed to make an envelope key: %w", err)
	}
	to := make([]Stanza, 0, len(recipients))
	for _, pub := range recipients {
		s, err := wrapKey(r, key, pub)
		if err != nil {
			return nil, err
		}
		to = append(to, s)
	}
	owner, err := marshal(envelopeOwner{Recipients: ids, Made: now})
	if err != nil {
		return nil, err
	}
	// The owner part's associated data is the version it names, so it
	// cannot be moved onto another envelope.
	sealedOwner, err := sealBody(&v.acct.cur().index, append([]byte(adEnvelopeOwner+"\x00"), file.CID.Bytes()...), owner)
	if err != nil {
		return nil, err
	}
	body := envelopeBody{From: v.acct.ID(), Key: file.Key[:], Name: file.Name, Size: file.Size, Mtime: file.Mtime, Mode: file.Mode, Time: now}
	blk, err := v.sealNode(&key, adEnvelope, body, func(sealed []byte) bodiless {
		return envelopeNode{Type: "envelope", V: 1, Links: []Link{{file.CID}}, To: to, Owner: sealedOwner, Body: sealed}
	})
	if err != nil {
		return nil, fmt.Errorf("failed to seal an envelope: %w", err)
	}
	if err := v.blocks.Put(context.WithoutCancel(ctx), []blocks.Block{blk}); err != nil {
		return nil, fmt.Errorf("failed to store an envelope: %w", err)
	}
	return blk, nil
}

// oneBlock serves one block, checked against its CID.
type oneBlock struct {
	c    cid.Cid
	data []byte
}

func (o oneBlock) Get(_ context.Context, c cid.Cid) ([]byte, error) {
	if !c.Equals(o.c) {
		return nil, ErrMissing
	}
	blk, err := newBlock(c.Prefix(), o.data)
	if err != nil || !blk.Cid().Equals(c) {
		return nil, &DamagedError{CID: c, What: "envelope", Err: errors.New("the bytes do not match the CID")}
	}
	return o.data, nil
}

func (o oneBlock) Put(context.Context, []blocks.Block) error { return errors.New("read only") }

func decodeEnvelope(c cid.Cid, data []byte) (*envelopeNode, error) {
	var n envelopeNode
	if err := CheckCID(c); err != nil {
		return nil, err
	}
	if err := decodeNode(context.Background(), oneBlock{c, data}, c, "envelope", "envelope", &n); err != nil {
		return nil, err
	}
	if n.V != 1 || len(n.Links) != 1 || n.Links[0].Prefix().Codec != cid.DagCBOR || len(n.To) == 0 || len(n.To) > MaxRecipients {
		return nil, &DamagedError{CID: c, What: "envelope", Err: fmt.Errorf("version %d, %d links, %d stanzas", n.V, len(n.Links), len(n.To))}
	}
	return &n, nil
}

// ErrNotForUs says an envelope has no stanza for this account.
var ErrNotForUs = errors.New("the envelope is not for this account")

// OpenEnvelope opens the envelope block (c, data) with this account's box
// key: ErrNotForUs when no stanza is for it.
func (v *Vault) OpenEnvelope(c cid.Cid, data []byte) (Envelope, error) {
	n, err := decodeEnvelope(c, data)
	if err != nil {
		return Envelope{}, err
	}
	key, err := v.acct.unwrap(n.To)
	if err != nil {
		return Envelope{}, ErrNotForUs
	}
	var b envelopeBody
	if err := openNode(*n, adEnvelope, &key, &b); err != nil {
		return Envelope{}, &DamagedError{CID: c, What: "envelope", Err: err}
	}
	if len(b.Key) != 32 {
		return Envelope{}, &DamagedError{CID: c, What: "envelope", Err: errors.New("the file key is not 32 bytes")}
	}
	if _, err := ParseAccountID(b.From); err != nil {
		return Envelope{}, &DamagedError{CID: c, What: "envelope", Err: fmt.Errorf("sender: %w", err)}
	}
	e := Envelope{CID: c, From: b.From, Version: n.Links[0].Cid, Name: b.Name, Size: b.Size, Mtime: b.Mtime, Mode: b.Mode, Time: b.Time}
	copy(e.Key[:], b.Key)
	return e, nil
}

// EnvelopeOwner opens the owner part of an envelope this account sent.
func (v *Vault) EnvelopeOwner(ctx context.Context, c cid.Cid) (Sent, error) {
	data, err := getBlock(ctx, v.blocks, c, "envelope")
	if err != nil {
		return Sent{}, err
	}
	n, err := decodeEnvelope(c, data)
	if err != nil {
		return Sent{}, err
	}
	plain, err := openBodyAny(v.acct.indexKeys(), append([]byte(adEnvelopeOwner+"\x00"), n.Links[0].Cid.Bytes()...), n.Owner)
	if err != nil {
		return Sent{}, &DamagedError{CID: c, What: "envelope", Err: fmt.Errorf("owner part: %w", err)}
	}
	var o envelopeOwner
	if err := unmarshal(plain, &o); err != nil || len(o.Recipients) == 0 || len(o.Recipients) > MaxRecipients {
		return Sent{}, &DamagedError{CID: c, What: "envelope", Err: fmt.Errorf("owner part: bad encoding or recipients (%v)", err)}
	}
	return Sent{CID: c, Recipients: o.Recipients, Made: o.Made}, nil
}
