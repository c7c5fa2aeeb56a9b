package share

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// The password KDF's parameters (SPEC.md section 17.1): argon2id, 3
// passes over 64 MiB, one lane, so that a Raspberry Pi opens a link in
// about a second and each guess costs an attacker as much.
const (
	kdfTime    = 3
	kdfMemory  = 64 << 10 // KiB
	kdfThreads = 1
	saltSize   = 16
	sealedSize = 32 + chacha20poly1305.Overhead
)

// Wrapped is a link's key sealed under a key derived from a password.
type Wrapped struct {
	Salt   [saltSize]byte
	Sealed [sealedSize]byte
}

// ErrWrongPassword says the password does not open the link's key.
var ErrWrongPassword = errors.New("wrong password for this link")

func passwordKey(password string, salt []byte) []byte {
	return argon2.IDKey([]byte(password), salt, kdfTime, kdfMemory, kdfThreads, 32)
}

// Lock wraps the link's key with password; the link then needs it to
// open. rand is crypto/rand's Reader when nil.
func (l *Link) Lock(r io.Reader, password string) error {
	if password == "" {
		return errors.New("the password is empty")
	}
	if r == nil {
		r = rand.Reader
	}
	w := &Wrapped{}
	if _, err := io.ReadFull(r, w.Salt[:]); err != nil {
		return fmt.Errorf("failed to make a salt: %w", err)
	}
	aead, err := chacha20poly1305.New(passwordKey(password, w.Salt[:]))
	if err != nil {
		return err
	}
	copy(w.Sealed[:], aead.Seal(nil, make([]byte, chacha20poly1305.NonceSize), l.Key[:], []byte(Scheme)))
	l.Wrapped, l.Key = w, [32]byte{}
	return nil
}

// Unlock opens a locked link's key with password.
func (l *Link) Unlock(password string) error {
	if l.Wrapped == nil {
		return nil
	}
	if password == "" {
		return errors.New("this link needs a password")
	}
	aead, err := chacha20poly1305.New(passwordKey(password, l.Wrapped.Salt[:]))
	if err != nil {
		return err
	}
	k, err := aead.Open(nil, make([]byte, chacha20poly1305.NonceSize), l.Wrapped.Sealed[:], []byte(Scheme))
	if err != nil {
		return ErrWrongPassword
	}
	copy(l.Key[:], k)
	l.Wrapped = nil
	return nil
}
