package link

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// Sizes on the wire (SPEC.md, "Link protocol").
const (
	// maxFrame bounds one message's bytes after its 2-byte length.
	maxFrame = 4096
	// NonceSize is the size of each side's nonce.
	NonceSize = 32
	// macSize is the size of a proof (HMAC-SHA256).
	macSize = 32
	// MaxNameBytes bounds the new device's name.
	MaxNameBytes = 64
	// maxReason bounds a refusal's text.
	maxReason = 256
)

// Message types.
const (
	typeHello     = "hello"     // joiner: its nonce and name
	typeChallenge = "challenge" // offerer: its nonce
	typeProof     = "proof"     // joiner: its MAC over the transcript
	typeAccept    = "accept"    // offerer: its MAC; the users compare fingerprints
	typeWelcome   = "welcome"   // offerer: the sealed root secret and certificate
	typeDone      = "done"      // joiner: it has stored what it got
	typeRefuse    = "refuse"    // either side: why it stops
)

// Refusal codes.
const (
	codeWrongSecret = "wrong-secret"
	codeUsed        = "used"
	codeExpired     = "expired"
	codeBurned      = "burned"
	codeNoOffer     = "no-offer"
	codeBusy        = "busy"
	codeDeclined    = "declined"
	codeFailed      = "failed"
)

// message is one frame's content. Which fields a message has depends on
// its type (check); the others are absent.
type message struct {
	Type   string `cbor:"type"`
	Nonce  []byte `cbor:"nonce,omitempty"`
	Name   string `cbor:"name,omitempty"`
	MAC    []byte `cbor:"mac,omitempty"`
	Sealed []byte `cbor:"sealed,omitempty"`
	Code   string `cbor:"code,omitempty"`
	Reason string `cbor:"reason,omitempty"`
}

// welcomeBody is what a welcome seals.
type welcomeBody struct {
	Secret []byte `cbor:"secret"`
	Cert   []byte `cbor:"cert"`
	// Epochs are the account's key epochs after 0 (SPEC.md, "Key
	// epochs"); absent when its keys were never rotated.
	Epochs []welcomeEpoch `cbor:"epochs,omitempty"`
}

// welcomeEpoch is one key epoch in a welcome.
type welcomeEpoch struct {
	N      uint64 `cbor:"n"`
	Secret []byte `cbor:"secret"`
}

var encMode = func() cbor.EncMode {
	m, err := cbor.EncOptions{Sort: cbor.SortLengthFirst, IndefLength: cbor.IndefLengthForbidden}.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

var decMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   4,
		MaxArrayElements:  16,
		MaxMapPairs:       16,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// errMessage wraps every error about a message that is not what the
// protocol sends.
var errMessage = errors.New("malformed link message")

// strictUnmarshal decodes one canonical CBOR value: nothing after it,
// and it encodes back to the same bytes.
func strictUnmarshal(b []byte, v any) error {
	rest, err := decMode.UnmarshalFirst(b, v)
	if err != nil {
		return fmt.Errorf("%w: %w", errMessage, err)
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d bytes after it", errMessage, len(rest))
	}
	again, err := encMode.Marshal(v)
	if err != nil || string(again) != string(b) {
		return fmt.Errorf("%w: not in canonical form", errMessage)
	}
	return nil
}

// decodeMessage reads and checks one message's bytes.
func decodeMessage(b []byte) (*message, error) {
	var m message
	if err := strictUnmarshal(b, &m); err != nil {
		return nil, err
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

// check tells whether m holds exactly the fields of its type.
func (m *message) check() error {
	has := func(nonce, name, mac, sealed, code bool) bool {
		return (len(m.Nonce) > 0) == nonce && (m.Name != "") == name && (len(m.MAC) > 0) == mac &&
			(len(m.Sealed) > 0) == sealed && (m.Code != "") == code
	}
	ok := false
	switch m.Type {
	case typeHello:
		ok = has(true, true, false, false, false) && len(m.Nonce) == NonceSize && validName(m.Name)
	case typeChallenge:
		ok = has(true, false, false, false, false) && len(m.Nonce) == NonceSize
	case typeProof, typeAccept:
		ok = has(false, false, true, false, false) && len(m.MAC) == macSize
	case typeWelcome:
		ok = has(false, false, false, true, false)
	case typeDone:
		ok = has(false, false, false, false, false)
	case typeRefuse:
		ok = has(false, false, false, false, true) && len(m.Code) <= 32
	}
	if m.Type != typeRefuse && m.Reason != "" || len(m.Reason) > maxReason {
		ok = false
	}
	if !ok {
		return fmt.Errorf("%w: a %q message with the wrong fields", errMessage, m.Type)
	}
	return nil
}

// validName accepts a device name of 1 to MaxNameBytes bytes of UTF-8
// without control characters.
func validName(s string) bool {
	if s == "" || len(s) > MaxNameBytes || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// writeMessage sends m as one frame: its length (2 bytes, big-endian),
// then its CBOR.
func writeMessage(w io.Writer, m *message) error {
	if err := m.check(); err != nil {
		return err
	}
	b, err := encMode.Marshal(m)
	if err != nil {
		return fmt.Errorf("failed to encode a link message: %w", err)
	}
	if len(b) > maxFrame {
		return fmt.Errorf("failed to send a link message: %d bytes", len(b))
	}
	frame := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(b)), uint16(len(b)))
	if _, err := w.Write(append(frame, b...)); err != nil {
		return fmt.Errorf("failed to send a link message: %w", err)
	}
	return nil
}

// readMessage reads one frame, at most maxFrame bytes.
func readMessage(r io.Reader) (*message, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, fmt.Errorf("failed to read a link message: %w", err)
	}
	size := int(binary.BigEndian.Uint16(n[:]))
	if size == 0 || size > maxFrame {
		return nil, fmt.Errorf("%w: a frame of %d bytes", errMessage, size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("failed to read a link message: %w", err)
	}
	return decodeMessage(b)
}
