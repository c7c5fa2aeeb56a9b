package vault

import (
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
)

// linkTag is the CBOR tag DAG-CBOR uses for CIDs.
const linkTag = 42

// Link is a CID that encodes as a DAG-CBOR link: tag 42 around the CID's
// binary form behind a zero byte.
type Link struct{ cid.Cid }

// MarshalCBOR encodes l as tag 42.
func (l Link) MarshalCBOR() ([]byte, error) {
	if !l.Defined() {
		return nil, errors.New("failed to encode link: undefined CID")
	}
	b := append([]byte{0}, l.Bytes()...)
	return encMode.Marshal(cbor.Tag{Number: linkTag, Content: b})
}

// UnmarshalCBOR decodes a tag 42 link and refuses anything else.
func (l *Link) UnmarshalCBOR(data []byte) error {
	var raw cbor.RawTag
	if err := decMode.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("failed to decode link: %w", err)
	}
	if raw.Number != linkTag {
		return fmt.Errorf("failed to decode link: tag %d, want 42", raw.Number)
	}
	var b []byte
	if err := decMode.Unmarshal(raw.Content, &b); err != nil {
		return fmt.Errorf("failed to decode link: %w", err)
	}
	if len(b) < 2 || b[0] != 0 {
		return errors.New("failed to decode link: missing the zero prefix of a DAG-CBOR CID")
	}
	n, c, err := cid.CidFromBytes(b[1:])
	if err != nil {
		return fmt.Errorf("failed to decode link: %w", err)
	}
	if n != len(b)-1 {
		return errors.New("failed to decode link: trailing bytes after the CID")
	}
	l.Cid = c
	return nil
}

// encMode writes DAG-CBOR: definite lengths, shortest integers, map keys
// sorted length first then bytewise.
var encMode = func() cbor.EncMode {
	m, err := cbor.EncOptions{
		Sort:          cbor.SortLengthFirst,
		ShortestFloat: cbor.ShortestFloatNone,
		IndefLength:   cbor.IndefLengthForbidden,
		NilContainers: cbor.NilContainerAsEmpty,
		TagsMd:        cbor.TagsAllowed,
	}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// decMode reads strictly: no duplicate or unknown keys, no indefinite
// lengths, no tags but 42, bounded sizes, and nothing after the value.
var decMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsAllowed,
		MaxNestedLevels:   16,
		MaxArrayElements:  1 << 20,
		MaxMapPairs:       1 << 16,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// marshal encodes v as DAG-CBOR.
func marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// errDecode is wrapped by the errors about a node or body that is not
// the canonical DAG-CBOR of its kind: not well-formed, not canonical,
// an unknown, missing or mistyped key (SPEC.md, "Order of checks").
var errDecode = errors.New("not in canonical DAG-CBOR form")

// unmarshal decodes one DAG-CBOR value into v, refusing trailing bytes,
// then checks that v encodes back to the same bytes, so every object has
// one encoding and its CID means one thing.
func unmarshal(data []byte, v any) error {
	rest, err := decMode.UnmarshalFirst(data, v)
	if err != nil {
		return fmt.Errorf("%w: %w", errDecode, err)
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errDecode, len(rest))
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %w", errDecode, err)
	}
	if string(again) != string(data) {
		return fmt.Errorf("%w: it encodes back to other bytes", errDecode)
	}
	return nil
}

// peekMode reads leniently, only to find a node's type field.
var peekMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{MaxNestedLevels: 16, MaxArrayElements: 1 << 20, MaxMapPairs: 1 << 16}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// nodeHead is what a reader reads of a node first, leniently: its kind
// and format version, so that a node of a newer version is refused as
// such, not for the keys it added.
type nodeHead struct {
	Type *string `cbor:"type"`
	V    *int64  `cbor:"v"`
}

// peekHead reads a node's type and version. It fails for bytes that are
// not one well-formed CBOR map holding a text "type" and an integer "v".
func peekHead(data []byte) (typ string, v int64, err error) {
	var h nodeHead
	if err := peekMode.Unmarshal(data, &h); err != nil {
		return "", 0, fmt.Errorf("%w: %w", errDecode, err)
	}
	if h.Type == nil || h.V == nil {
		return "", 0, fmt.Errorf("%w: no \"type\" or no \"v\"", errDecode)
	}
	return *h.Type, *h.V, nil
}

// peekType returns the "type" field of a node, or "" if it has none.
func peekType(data []byte) string {
	var t struct {
		Type string `cbor:"type"`
	}
	if peekMode.Unmarshal(data, &t) != nil {
		return ""
	}
	return t.Type
}
