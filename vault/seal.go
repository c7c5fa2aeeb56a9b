package vault

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
	"lukechampine.com/blake3"
)

// Associated data of sealed bodies, one per node type, so a body sealed for
// one kind of node never opens as another.
const (
	adFile = "peer/v1 file"
	adPart = "peer/v1 part"
	adDir  = "peer/v1 dir"
	adSnap = "peer/v1 snapshot"
)

// bodiless is a node that can be encoded without its sealed body.
type bodiless interface{ withoutBody() any }

func (n fileNode) withoutBody() any { n.Body = nil; return n }
func (n partNode) withoutBody() any { n.Body = nil; return n }
func (n dirNode) withoutBody() any  { n.Body = nil; return n }
func (n snapNode) withoutBody() any { n.Body = nil; return n }

// sealedNode is a node with a sealed body.
type sealedNode interface {
	bodiless
	sealed() (version int, body []byte)
}

func (n fileNode) sealed() (int, []byte) { return n.V, n.Body }
func (n partNode) sealed() (int, []byte) { return n.V, n.Body }
func (n dirNode) sealed() (int, []byte)  { return n.V, n.Body }
func (n snapNode) sealed() (int, []byte) { return n.V, n.Body }

// openNode checks a decoded node's format version, opens its body under
// key with the node's associated data, and decodes the body into body.
func openNode(n sealedNode, label string, key *[32]byte, body any) error {
	v, sealed := n.sealed()
	if v != 1 {
		return versionError(int64(v))
	}
	ad, err := nodeAD(label, n)
	if err != nil {
		return err
	}
	plain, err := openBody(key, ad, sealed)
	if err != nil {
		return err
	}
	if err := unmarshal(plain, body); err != nil {
		return fmt.Errorf("body: %w", err)
	}
	return nil
}

// nodeAD is the associated data of a node's sealed body: the node type's
// label, a zero byte, and the SHA-256 of the node encoded with an empty
// body. It binds the body to every field in clear (links, previous
// version, parents, recipients), so changing any of them fails the open.
func nodeAD(label string, n bodiless) ([]byte, error) {
	b, err := marshal(n.withoutBody())
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(b)
	return append([]byte(label+"\x00"), h[:]...), nil
}

// ErrWrongKey is returned when a sealed body or chunk does not open: the
// key is not the one it was sealed with, or the bytes were changed.
var ErrWrongKey = errors.New("does not decrypt: wrong account key or damaged data")

// labelNonce prefixes the input of a body's nonce.
const labelNonce = "peer/v1 nonce"

// sealBody encrypts plain with XChaCha20-Poly1305 under key: nonce ||
// ciphertext || tag. The nonce is the first 24 bytes of BLAKE3-keyed(key,
// label || ad || plain), so equal inputs give equal bytes: two devices
// that merge the same heads write the same snapshot. (A nonce repeats only
// with the whole input, where the ciphertext repeats too.)
func sealBody(key *[32]byte, ad []byte, plain []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	h := blake3.New(32, key[:])
	h.Write([]byte(labelNonce))
	h.Write(ad)
	h.Write(plain)
	out := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(plain)+aead.Overhead())
	copy(out, h.Sum(nil))
	return aead.Seal(out, out[:chacha20poly1305.NonceSizeX], plain, ad), nil
}

// openBody reverses sealBody.
func openBody(key *[32]byte, ad []byte, sealed []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	if len(sealed) < chacha20poly1305.NonceSizeX+aead.Overhead() {
		return nil, fmt.Errorf("sealed body of %d bytes is too short", len(sealed))
	}
	plain, err := aead.Open(nil, sealed[:chacha20poly1305.NonceSizeX], sealed[chacha20poly1305.NonceSizeX:], ad)
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}

// zeroNonce is the nonce of chunk encryption: each chunk key is derived
// from the chunk's own plaintext, so a key only ever seals one plaintext.
var zeroNonce [chacha20poly1305.NonceSizeX]byte

// sealChunk encrypts buf[:n] in place under key; buf must have 16 spare
// bytes of capacity for the tag.
func sealChunk(key *[32]byte, buf []byte) []byte {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		panic(err) // 32-byte key
	}
	return aead.Seal(buf[:0], zeroNonce[:], buf, nil)
}

// openChunk decrypts a sealed chunk into dst (which may be sealed[:0]).
func openChunk(key *[32]byte, dst, sealed []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(dst, zeroNonce[:], sealed, nil)
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}

// openBodyAny opens sealed under the first of keys that opens it (one per
// key epoch, newest first: the epoch is not written beside the body).
func openBodyAny(keys [][32]byte, ad []byte, sealed []byte) ([]byte, error) {
	err := ErrWrongKey
	for i := range keys {
		var plain []byte
		if plain, err = openBody(&keys[i], ad, sealed); err == nil {
			return plain, nil
		} else if !errors.Is(err, ErrWrongKey) {
			return nil, err
		}
	}
	return nil, err
}

// openNodeAny is openNode under the first of keys that opens the body.
func openNodeAny(n sealedNode, label string, keys [][32]byte, body any) error {
	err := ErrWrongKey
	for i := range keys {
		if err = openNode(n, label, &keys[i], body); err == nil || !errors.Is(err, ErrWrongKey) {
			return err
		}
	}
	return err
}
