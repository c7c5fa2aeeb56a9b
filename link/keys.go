package link

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/chacha20poly1305"
)

// ProtocolID is the libp2p protocol the new device opens on the running
// one.
const ProtocolID = "/peer/link/1"

// Labels of the protocol's derivations (SPEC.md, "Link protocol").
const (
	labelKey         = "peer/link/1 key"
	labelJoiner      = "peer/link/1 joiner\x00"
	labelOfferer     = "peer/link/1 offerer\x00"
	labelFingerprint = "peer/link/1 fingerprint\x00"
	labelWelcome     = "peer/link/1 welcome\x00"
)

// session holds one exchange's transcript and the key from the secret.
type session struct {
	key        []byte
	transcript []byte
}

// newSession binds the offer's secret to this exchange: the protocol id,
// both peer IDs (offerer first), both nonces and the joiner's name, each
// behind its length as 2 bytes big-endian.
func newSession(secret [SecretSize]byte, offerer, joiner peer.ID, nonceA, nonceB []byte, name string) *session {
	key, err := hkdf.Key(sha256.New, secret[:], nil, labelKey, 32)
	if err != nil {
		panic(err)
	}
	var t []byte
	for _, f := range [][]byte{[]byte(ProtocolID), []byte(offerer), []byte(joiner), nonceA, nonceB, []byte(name)} {
		t = binary.BigEndian.AppendUint16(t, uint16(len(f)))
		t = append(t, f...)
	}
	return &session{key: key, transcript: t}
}

// mac is HMAC-SHA256 under the session key over label and transcript.
func (s *session) mac(label string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(label))
	h.Write(s.transcript)
	return h.Sum(nil)
}

// check compares a proof with the one label gives, in constant time.
func (s *session) check(label string, got []byte) bool {
	return hmac.Equal(s.mac(label), got)
}

// fingerprint is the short code both screens show: the first 4 bytes of
// the fingerprint MAC as a big-endian number, modulo 1 000 000, as two
// groups of three digits.
func (s *session) fingerprint() string {
	n := binary.BigEndian.Uint32(s.mac(labelFingerprint)) % 1_000_000
	return fmt.Sprintf("%03d %03d", n/1000, n%1000)
}

// seal encrypts the welcome's body: XChaCha20-Poly1305 under the welcome
// MAC as key, a random 24-byte nonce in front.
func (s *session) seal(plain []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(s.mac(labelWelcome))
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("failed to make a nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, nil), nil
}

// open decrypts what seal made.
func (s *session) open(sealed []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(s.mac(labelWelcome))
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("the welcome is too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil {
		return nil, errors.New("the welcome does not open with this link's secret")
	}
	return plain, nil
}

// randomNonce returns a fresh nonce.
func randomNonce() ([]byte, error) {
	n := make([]byte, NonceSize)
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("failed to make a nonce: %w", err)
	}
	return n, nil
}
