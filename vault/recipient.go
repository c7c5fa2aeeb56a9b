package vault

import (
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/curve25519"
)

// labelWrap is the HKDF info of a recipient stanza, as in age's X25519
// recipient.
const labelWrap = "age-encryption.org/v1/X25519"

// Stanza carries a file key to one recipient: an ephemeral X25519 public
// key and the file key sealed under the shared secret (the construction
// of age's X25519 recipient stanza, with a 32-byte payload). It does not
// say who the recipient is.
type Stanza struct {
	Epk []byte `cbor:"epk"`
	Key []byte `cbor:"key"`
}

// wrapKey seals fileKey for the holder of the X25519 private key of pub.
func wrapKey(rand io.Reader, fileKey [32]byte, pub [32]byte) (Stanza, error) {
	eph := make([]byte, 32)
	if _, err := io.ReadFull(rand, eph); err != nil {
		return Stanza{}, err
	}
	epk, err := curve25519.X25519(eph, curve25519.Basepoint)
	if err != nil {
		return Stanza{}, err
	}
	shared, err := curve25519.X25519(eph, pub[:])
	if err != nil {
		return Stanza{}, fmt.Errorf("recipient key is not usable: %w", err)
	}
	wrapped, err := sealWrap(shared, epk, pub[:], fileKey[:])
	if err != nil {
		return Stanza{}, err
	}
	return Stanza{Epk: epk, Key: wrapped}, nil
}

// errNotRecipient says no stanza opened with the key tried.
var errNotRecipient = errors.New("this account is not a recipient of the file")

// unwrapKey finds the stanza for the box key priv and opens it.
func unwrapKey(stanzas []Stanza, priv, pub [32]byte) ([32]byte, error) {
	var out [32]byte
	for _, s := range stanzas {
		if len(s.Epk) != 32 || len(s.Key) != 32+chacha20poly1305.Overhead {
			continue
		}
		shared, err := curve25519.X25519(priv[:], s.Epk)
		if err != nil {
			continue
		}
		k, err := wrapAEAD(shared, s.Epk, pub[:])
		if err != nil {
			return out, err
		}
		var nonce [chacha20poly1305.NonceSize]byte
		plain, err := k.Open(nil, nonce[:], s.Key, nil)
		if err != nil {
			continue
		}
		copy(out[:], plain)
		return out, nil
	}
	return out, errNotRecipient
}

func wrapAEAD(shared, epk, pub []byte) (cipher.AEAD, error) {
	salt := append(append([]byte(nil), epk...), pub...)
	key, err := hkdf.Key(sha256.New, shared, salt, labelWrap, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.New(key)
}

func sealWrap(shared, epk, pub, fileKey []byte) ([]byte, error) {
	k, err := wrapAEAD(shared, epk, pub)
	if err != nil {
		return nil, err
	}
	var nonce [chacha20poly1305.NonceSize]byte
	return k.Seal(nil, nonce[:], fileKey, nil), nil
}

// OpenFileShared reads a file version whose key was wrapped for this
// account's box key when it was written.
func (v *Vault) OpenFileShared(ctx context.Context, c cid.Cid, what string) (*FileVersion, error) {
	return v.openFile(ctx, c, func(n *fileNode) ([32]byte, error) {
		return v.acct.unwrap(n.To)
	}, what)
}

// unwrap opens the stanza for this account's box key of any epoch.
func (a *Account) unwrap(stanzas []Stanza) ([32]byte, error) {
	for _, ep := range a.epochs() {
		if k, err := unwrapKey(stanzas, ep.box, ep.boxPub); err == nil || !errors.Is(err, errNotRecipient) {
			return k, err
		}
	}
	return [32]byte{}, errNotRecipient
}
