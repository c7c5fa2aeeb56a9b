package vault

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/cosmos/go-bip39"
	"golang.org/x/crypto/curve25519"
	"lukechampine.com/blake3"
)

// Labels of the derivations from an epoch secret (SPEC.md, "Key epochs");
// the others are those of the root secret.
const (
	labelDirSecret = "peer/v1 dir secret"
	labelDirKey    = "peer/v1 dir key"
	labelEpochID   = "peer/v1 epoch id"
)

// Epoch is one generation of an account's content keys: N counts the
// rotations (epoch 0 is the keys of the root secret and has no secret of
// its own), Secret is 32 random bytes.
type Epoch struct {
	N      uint64
	Secret [SecretSize]byte
}

// ID is the epoch's public name: the first 16 bytes of
// HKDF(secret, "peer/v1 epoch id").
func (e Epoch) ID() (id [16]byte) {
	copy(id[:], derive(e.Secret[:], labelEpochID))
	return id
}

// epochKeys are the keys of one epoch.
type epochKeys struct {
	Epoch
	id                      [16]byte
	index, chunk, file, dir [32]byte
	box, boxPub             [32]byte
	raw                     bool // epoch 0: folders sealed under their own keys
}

func newEpochKeys(e Epoch) (*epochKeys, error) {
	k := &epochKeys{Epoch: e, id: e.ID()}
	s := e.Secret[:]
	copy(k.box[:], derive(s, labelBox))
	pub, err := curve25519.X25519(k.box[:], curve25519.Basepoint)
	if err != nil {
		return nil, fmt.Errorf("failed to derive the box key of key epoch %d: %w", e.N, err)
	}
	copy(k.boxPub[:], pub)
	content := derive(s, labelContent)
	copy(k.index[:], derive(s, labelIndex))
	copy(k.chunk[:], derive(content, labelChunk))
	copy(k.file[:], derive(content, labelFile))
	copy(k.dir[:], derive(s, labelDirSecret))
	return k, nil
}

// chunkKey is BLAKE3 keyed with the chunk secret over the chunk's
// plaintext: the same chunk gets the same key (and block) in one epoch,
// and nobody without the secret can confirm a guess of its content.
func (k *epochKeys) chunkKey(plain []byte) (out [32]byte) {
	h := blake3.New(32, k.chunk[:])
	h.Write(plain)
	h.Sum(out[:0])
	return out
}

// fileID is the first 16 bytes of BLAKE3 keyed with the file secret over
// the content hash; it is stored in clear so the owner can find the key.
func (k *epochKeys) fileID(hash [32]byte) []byte {
	h := blake3.New(32, k.file[:])
	h.Write(hash[:])
	return h.Sum(nil)[:16]
}

// fileKey derives the key of a file version's sealed parts from its id.
func (k *epochKeys) fileKey(kid []byte) (out [32]byte) {
	b, err := hkdf.Key(sha256.New, k.file[:], kid, labelFileKey, 32)
	if err != nil {
		panic(err)
	}
	copy(out[:], b)
	return out
}

// dirKey is the key a folder's nodes are sealed under in this epoch: the
// folder key itself in epoch 0, else HKDF(dir secret, salt = folder key,
// "peer/v1 dir key"). A folder keeps its key for life (merges and moves
// rely on it), so a device removed from the account, which knew the
// folder keys, cannot open what is written after a rotation.
func (k *epochKeys) dirKey(folder *[32]byte) (out [32]byte) {
	if k.raw {
		return *folder
	}
	b, err := hkdf.Key(sha256.New, k.dir[:], folder[:], labelDirKey, 32)
	if err != nil {
		panic(err)
	}
	copy(out[:], b)
	return out
}

// before orders epochs newest first: by N, then by lower ID, so every
// device picks the same one of two made at once.
func before(a, b *epochKeys) int {
	if a.N != b.N {
		if a.N > b.N {
			return -1
		}
		return 1
	}
	return bytes.Compare(a.id[:], b.id[:])
}

// epochs are the epochs this account knows, newest first; the last is
// epoch 0.
func (a *Account) epochs() []*epochKeys { return *a.ring.Load() }

// cur is the newest epoch: what new data is sealed under.
func (a *Account) cur() *epochKeys { return a.epochs()[0] }

// ownEpoch is the epoch whose file key of a content hash is key, or nil.
func (a *Account) ownEpoch(hash [32]byte, key [32]byte) *epochKeys {
	for _, ep := range a.epochs() {
		if ep.fileKey(ep.fileID(hash)) == key {
			return ep
		}
	}
	return nil
}

// indexKeys are the index keys of every epoch, newest first.
func (a *Account) indexKeys() [][32]byte {
	ring := a.epochs()
	out := make([][32]byte, len(ring))
	for i, ep := range ring {
		out[i] = ep.index
	}
	return out
}

// Epoch is the newest key epoch (N 0 when the keys were never rotated).
func (a *Account) Epoch() Epoch { return a.cur().Epoch }

// Epochs are the epochs after 0 this account knows, newest first.
func (a *Account) Epochs() []Epoch {
	var out []Epoch
	for _, ep := range a.epochs() {
		if !ep.raw {
			out = append(out, ep.Epoch)
		}
	}
	return out
}

// HasEpoch reports whether the epoch n with id is known here.
func (a *Account) HasEpoch(n uint64, id [16]byte) bool {
	for _, ep := range a.epochs() {
		if !ep.raw && ep.N == n && ep.id == id {
			return true
		}
	}
	return false
}

// AddEpochs adds epochs to the ring; it reports whether any was new.
// Epoch 0 is the root secret's and cannot be added.
func (a *Account) AddEpochs(es ...Epoch) (bool, error) {
	for {
		old := a.ring.Load()
		ring := slices.Clone(*old)
		added := false
		for _, e := range es {
			if e.N == 0 {
				return false, errors.New("failed to add a key epoch: epoch 0 is the root secret's")
			}
			if slices.ContainsFunc(ring, func(k *epochKeys) bool { return !k.raw && k.Epoch == e }) {
				continue
			}
			k, err := newEpochKeys(e)
			if err != nil {
				return false, err
			}
			ring = append(ring, k)
			added = true
		}
		if !added {
			return false, nil
		}
		slices.SortFunc(ring, before)
		if a.ring.CompareAndSwap(old, &ring) {
			return true, nil
		}
	}
}

// NewEpoch makes the next epoch (one past the newest known) with a secret
// read from rand and makes it the newest: what is written from now on is
// sealed under it.
func (a *Account) NewEpoch(rand io.Reader) (Epoch, error) {
	e := Epoch{N: a.cur().N + 1}
	if _, err := io.ReadFull(rand, e.Secret[:]); err != nil {
		return Epoch{}, fmt.Errorf("failed to make a key epoch: %w", err)
	}
	if _, err := a.AddEpochs(e); err != nil {
		return Epoch{}, err
	}
	return e, nil
}

// RecoveryKey is the epoch as a user writes it down: its number and its
// secret as 24 BIP-39 words, "N word1 ... word24".
func (e Epoch) RecoveryKey() string {
	s, err := bip39.NewMnemonic(e.Secret[:])
	if err != nil {
		panic(err) // 256 bits is a valid BIP-39 entropy size
	}
	return strconv.FormatUint(e.N, 10) + " " + s
}

// ParseRecoveryKey reads a RecoveryKey. Case and spacing do not matter.
func ParseRecoveryKey(s string) (Epoch, error) {
	f := strings.Fields(strings.ToLower(s))
	if len(f) != PhraseWords+1 {
		return Epoch{}, fmt.Errorf("failed to read the recovery key: %d words, want the epoch number and %d words", len(f), PhraseWords)
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil || n == 0 {
		return Epoch{}, fmt.Errorf("failed to read the recovery key: it begins with %q, not an epoch number (1, 2, ...)", f[0])
	}
	words := strings.Join(f[1:], " ")
	for i, w := range f[1:] {
		if _, ok := bip39.ReverseWordMap[w]; !ok {
			return Epoch{}, fmt.Errorf("failed to read the recovery key: word %d (%q) is not a BIP-39 English word; check its spelling", i+1, w)
		}
	}
	b, err := bip39.MnemonicToByteArray(words)
	if err != nil || len(b) != SecretSize+1 {
		return Epoch{}, errors.New("failed to read the recovery key: its checksum does not match; a word is wrong or two are swapped")
	}
	e := Epoch{N: n}
	copy(e.Secret[:], b)
	return e, nil
}

// MarshalEpochs encodes epochs for the repo's epochs file: one line per
// epoch, "N hex(secret)".
func MarshalEpochs(es []Epoch) []byte {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "%d %x\n", e.N, e.Secret)
	}
	return []byte(b.String())
}

// ParseEpochs reads MarshalEpochs's output, strictly.
func ParseEpochs(b []byte) ([]Epoch, error) {
	var out []Epoch
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" && len(b) == 0 {
			break
		}
		var e Epoch
		var hex []byte
		if _, err := fmt.Sscanf(line, "%d %x", &e.N, &hex); err != nil || len(hex) != SecretSize || e.N == 0 || fmt.Sprintf("%d %x", e.N, hex) != line {
			return nil, fmt.Errorf("failed to read key epochs: line %d is not \"N <64 hex digits>\"", i+1)
		}
		copy(e.Secret[:], hex)
		out = append(out, e)
	}
	return out, nil
}
