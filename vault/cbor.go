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
	// By hand, as the encoder would write it (links are most of what a
	// folder node holds, and the encoder's generic path was most of the
	// cost of writing and checking one): tag 42, then a byte string of
	// a zero byte and the CID's bytes.
	c := l.KeyString()
	out := make([]byte, 0, 2+9+1+len(c))
	out = append(out, 0xd8, linkTag)
	out = appendHead(out, 2, uint64(len(c)+1))
	out = append(out, 0)
	return append(out, c...), nil
}

// appendHead appends a CBOR head of major type major and argument n in
// its shortest form.
func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return append(b, m|25, byte(n>>8), byte(n))
	case n <= 0xffffffff:
		return append(b, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// UnmarshalCBOR decodes a tag 42 link and refuses anything else.
func (l *Link) UnmarshalCBOR(data []byte) error {
	// By hand, strictly: tag 42 in its one-byte-argument form, then a
	// byte string with its length in shortest form, ending the data.
	if len(data) < 2 || data[0] != 0xd8 || data[1] != linkTag {
		return errors.New("failed to decode link: not tag 42")
	}
	b, err := byteString(data[2:])
	if err != nil {
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

// byteString reads data as exactly one definite-length CBOR byte string
// whose length is in its shortest form, and returns its content.
func byteString(data []byte) ([]byte, error) {
	if len(data) == 0 || data[0]>>5 != 2 {
		return nil, errors.New("not a byte string")
	}
	ai := data[0] & 0x1f
	var n uint64
	head := 1
	switch {
	case ai < 24:
		n = uint64(ai)
	case ai <= 27:
		size := 1 << (ai - 24)
		if len(data) < 1+size {
			return nil, errors.New("truncated byte string")
		}
		for _, x := range data[1 : 1+size] {
			n = n<<8 | uint64(x)
		}
		head += size
		if len(appendHead(nil, 2, n)) != head {
			return nil, errors.New("byte string length not in its shortest form")
		}
	default:
		return nil, errors.New("byte string of indefinite or reserved length")
	}
	if uint64(len(data)-head) != n {
		return nil, fmt.Errorf("byte string of %d bytes in %d", n, len(data)-head)
	}
	return data[head:], nil
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
	if s, ok := v.(strictDecoder); ok {
		if err := s.decodeStrict(data); err != nil {
			return fmt.Errorf("%w: %w", errDecode, err)
		}
		return nil
	}
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

// strictDecoder is a type that decodes itself from exactly the bytes the
// generic encoder writes for it and refuses all others, so unmarshal
// need not encode it back to compare.
type strictDecoder interface {
	decodeStrict(data []byte) error
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
