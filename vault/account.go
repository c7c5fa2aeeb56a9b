package vault

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/cosmos/go-bip39"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/curve25519"
)

// SecretSize is the size of an account's root secret.
const SecretSize = 32

// Labels of the HKDF-SHA256 derivations from the root secret (SPEC.md,
// "Keys"). The salt is empty; the label is the info.
const (
	labelSigning = "peer/v1 account signing key"
	labelBox     = "peer/v1 account box key"
	labelContent = "peer/v1 content secret"
	labelIndex   = "peer/v1 index key"
	labelChunk   = "peer/v1 chunk secret"
	labelFile    = "peer/v1 file secret"
)

// Account holds the keys of one account, all derived from its root secret.
// It is never written anywhere but the repo's 0600 account file.
type Account struct {
	root    [SecretSize]byte
	signing ed25519.PrivateKey
	box     [32]byte // X25519 private key
	boxPub  [32]byte
	index   [32]byte
	chunk   [32]byte // BLAKE3 key for chunk keys
	file    [32]byte // secret for file ids and file keys
	id      peer.ID
	// ring holds the key epochs this device knows, newest first; epoch 0
	// (the keys above) is always the last (SPEC.md, "Key epochs").
	ring atomic.Pointer[[]*epochKeys]
}

// NewAccount makes an account with a fresh root secret read from rand.
func NewAccount(rand io.Reader) (*Account, error) {
	var root [SecretSize]byte
	if _, err := io.ReadFull(rand, root[:]); err != nil {
		return nil, fmt.Errorf("failed to make a root secret: %w", err)
	}
	return AccountFromSecret(root[:])
}

// AccountFromSecret derives an account's keys from its 32-byte root secret.
func AccountFromSecret(root []byte) (*Account, error) {
	if len(root) != SecretSize {
		return nil, fmt.Errorf("failed to load account: root secret is %d bytes, want %d", len(root), SecretSize)
	}
	a := &Account{}
	copy(a.root[:], root)
	a.signing = ed25519.NewKeyFromSeed(derive(root, labelSigning))
	copy(a.box[:], derive(root, labelBox))
	pub, err := curve25519.X25519(a.box[:], curve25519.Basepoint)
	if err != nil {
		return nil, fmt.Errorf("failed to derive box key: %w", err)
	}
	copy(a.boxPub[:], pub)
	content := derive(root, labelContent)
	copy(a.index[:], derive(root, labelIndex))
	copy(a.chunk[:], derive(content, labelChunk))
	copy(a.file[:], derive(content, labelFile))
	pk, err := crypto.UnmarshalEd25519PublicKey(a.signing.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("failed to load account key: %w", err)
	}
	if a.id, err = peer.IDFromPublicKey(pk); err != nil {
		return nil, fmt.Errorf("failed to compute account ID: %w", err)
	}
	zero := &epochKeys{index: a.index, chunk: a.chunk, file: a.file, box: a.box, boxPub: a.boxPub, raw: true}
	a.ring.Store(&[]*epochKeys{zero})
	return a, nil
}

// derive is HKDF-SHA256 with an empty salt and label as info, 32 bytes out.
func derive(secret []byte, label string) []byte {
	out, err := hkdf.Key(sha256.New, secret, nil, label, 32)
	if err != nil {
		panic(err) // only for lengths over 255*32
	}
	return out
}

// Secret returns the root secret. Callers store it 0600 and never log it.
func (a *Account) Secret() []byte { return append([]byte(nil), a.root[:]...) }

// PeerID is the account's signing key as a libp2p peer ID; its IPNS name.
func (a *Account) PeerID() peer.ID { return a.id }

// ID is the account ID as users see it: the IPNS name in its CIDv1
// (libp2p-key, base36) form, "k51...".
func (a *Account) ID() string { return AccountID(a.id) }

// AccountID formats a peer ID as an account ID.
func AccountID(id peer.ID) string {
	s, err := peer.ToCid(id).StringOfBase('k')
	if err != nil {
		return id.String()
	}
	return s
}

// ParseAccountID reads an account ID in its k51 form or as a peer ID.
func ParseAccountID(s string) (peer.ID, error) {
	if c, err := cid.Decode(s); err == nil {
		if id, err := peer.FromCid(c); err == nil {
			return id, nil
		}
	}
	id, err := peer.Decode(s)
	if err != nil {
		return "", fmt.Errorf("%q is not an account ID (expected k51...): %w", s, err)
	}
	return id, nil
}

// SigningKey returns the account's private signing key as a libp2p key,
// for IPNS records and device certificates.
func (a *Account) SigningKey() crypto.PrivKey {
	k, err := crypto.UnmarshalEd25519PrivateKey(a.signing)
	if err != nil {
		panic(err) // a 64-byte ed25519 key always unmarshals
	}
	return k
}

// BoxPublic is the X25519 public key others wrap file keys to: the
// newest key epoch's.
func (a *Account) BoxPublic() [32]byte { return a.cur().boxPub }

// PhraseWords is the number of words in a recovery phrase.
const PhraseWords = 24

// Phrase returns the BIP-39 recovery phrase (24 English words) of the
// root secret.
func (a *Account) Phrase() string {
	s, err := bip39.NewMnemonic(a.root[:])
	if err != nil {
		panic(err) // 256 bits is a valid BIP-39 entropy size
	}
	return s
}

// AccountFromPhrase restores an account from its recovery phrase. Case and
// spacing do not matter; the words and their checksum do.
func AccountFromPhrase(phrase string) (*Account, error) {
	words := strings.Fields(strings.ToLower(phrase))
	if len(words) != PhraseWords {
		return nil, fmt.Errorf("failed to read recovery phrase: %d words, want %d", len(words), PhraseWords)
	}
	for i, w := range words {
		if _, ok := bip39.ReverseWordMap[w]; !ok {
			return nil, fmt.Errorf("failed to read recovery phrase: word %d (%q) is not a BIP-39 English word; check its spelling", i+1, w)
		}
	}
	b, err := bip39.MnemonicToByteArray(strings.Join(words, " "))
	if err != nil {
		return nil, errors.New("failed to read recovery phrase: its checksum does not match; a word is wrong or two are swapped")
	}
	if len(b) != SecretSize+1 {
		return nil, fmt.Errorf("failed to read recovery phrase: decoded %d bytes", len(b))
	}
	return AccountFromSecret(b[:SecretSize])
}

// labelFileKey is the HKDF info of a file key; the salt is the file id.
const labelFileKey = "peer/v1 file key"

// chunkKey is the chunk key of plain in the newest key epoch.
func (a *Account) chunkKey(plain []byte) [32]byte { return a.cur().chunkKey(plain) }

// fileID is the file id of a content hash in the newest key epoch.
func (a *Account) fileID(hash [32]byte) []byte { return a.cur().fileID(hash) }

// fileKey is the file key of kid in the newest key epoch.
func (a *Account) fileKey(kid []byte) [32]byte { return a.cur().fileKey(kid) }
