package vault

import (
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/curve25519"
)

// Labels of a keys record (SPEC.md, "Key epochs").
const (
	labelKeysSig = "peer/v1 keys\x00"
	labelOlder   = "peer/v1 older epochs"
)

// KeysRecord hands the newest key epoch to the account's devices: its
// secret wrapped for the X25519 form of each device's key, and the older
// epochs' secrets sealed under it, signed by the device that made it. It
// goes in the account root in clear.
type KeysRecord struct {
	Account peer.ID
	N       uint64
	ID      [16]byte
	By      peer.ID   // the device that made the epoch
	To      []peer.ID // the devices it is wrapped for
	stanzas []Stanza  // one per To
	older   []byte
}

type keysNode struct {
	Type    string   `cbor:"type"`
	V       int      `cbor:"v"`
	Account []byte   `cbor:"account"`
	N       uint64   `cbor:"n"`
	ID      []byte   `cbor:"id"`
	By      []byte   `cbor:"by"`
	To      []keysTo `cbor:"to"`
	Older   []byte   `cbor:"older"`
	Sig     []byte   `cbor:"sig,omitempty"`
}

type keysTo struct {
	Device []byte `cbor:"device"`
	Epk    []byte `cbor:"epk"`
	Key    []byte `cbor:"key"`
}

type olderEpoch struct {
	N      uint64 `cbor:"n"`
	Secret []byte `cbor:"secret"`
}

// ErrNotGiven says a keys record holds no secret for this device: it was
// not a device of the account when the keys were rotated.
var ErrNotGiven = errors.New("the account's keys were rotated while this device was not one of its devices, and it was not given them")

// olderSeal is the key and associated data sealing the older epochs of e.
func olderSeal(e Epoch) ([32]byte, []byte) {
	var k [32]byte
	copy(k[:], derive(e.Secret[:], labelOlder))
	id := e.ID()
	return k, append([]byte(labelOlder+"\x00"), id[:]...)
}

// NewKeysRecord makes the record of the newest epoch for the devices to
// (this one among them), signed by this device's key by.
func (a *Account) NewKeysRecord(rand io.Reader, by crypto.PrivKey, to []peer.ID) ([]byte, error) {
	cur := a.cur()
	if cur.raw {
		return nil, errors.New("failed to make a keys record: the keys were never rotated")
	}
	byID, err := peer.IDFromPrivateKey(by)
	if err != nil {
		return nil, fmt.Errorf("failed to make a keys record: %w", err)
	}
	n := keysNode{Type: "keys", V: 1, Account: []byte(a.id), N: cur.N, ID: cur.id[:], By: []byte(byID)}
	to = slices.Clone(to)
	slices.Sort(to)
	to = slices.Compact(to)
	for _, d := range to {
		pub, err := deviceBoxPublic(d)
		if err != nil {
			return nil, fmt.Errorf("failed to make a keys record: device %s: %w", d, err)
		}
		s, err := wrapKey(rand, cur.Secret, pub)
		if err != nil {
			return nil, fmt.Errorf("failed to make a keys record: %w", err)
		}
		n.To = append(n.To, keysTo{Device: []byte(d), Epk: s.Epk, Key: s.Key})
	}
	var older []olderEpoch
	for _, e := range a.Epochs() {
		if e != cur.Epoch {
			older = append(older, olderEpoch{N: e.N, Secret: e.Secret[:]})
		}
	}
	plain, err := marshal(older)
	if err != nil {
		return nil, err
	}
	k, ad := olderSeal(cur.Epoch)
	if n.Older, err = sealBody(&k, ad, plain); err != nil {
		return nil, err
	}
	msg, err := marshal(n)
	if err != nil {
		return nil, err
	}
	if n.Sig, err = by.Sign(append([]byte(labelKeysSig), msg...)); err != nil {
		return nil, fmt.Errorf("failed to sign the keys record: %w", err)
	}
	return marshal(n)
}

// ParseKeysRecord decodes a keys record and checks its form and its
// signature by the device it names. Whether that device is one of the
// account's is the caller's to check.
func ParseKeysRecord(b []byte) (*KeysRecord, error) {
	fail := func(err error) (*KeysRecord, error) {
		return nil, fmt.Errorf("failed to read the keys record: %w", err)
	}
	typ, version, err := peekHead(b)
	switch {
	case err != nil:
		return fail(err)
	case typ != "keys":
		return fail(fmt.Errorf("%w: it is %q", errType, typ))
	case version != 1:
		return fail(versionError(version))
	}
	var n keysNode
	if err := unmarshal(b, &n); err != nil {
		return fail(err)
	}
	if n.N == 0 || len(n.ID) != 16 || len(n.Sig) == 0 || len(n.To) == 0 {
		return fail(errors.New("epoch 0, an id not of 16 bytes, no signature or no devices"))
	}
	r := &KeysRecord{N: n.N, older: n.Older}
	copy(r.ID[:], n.ID)
	if r.Account, err = peer.IDFromBytes(n.Account); err != nil {
		return fail(fmt.Errorf("account: %w", err))
	}
	if r.By, err = peer.IDFromBytes(n.By); err != nil {
		return fail(fmt.Errorf("by: %w", err))
	}
	for i, t := range n.To {
		d, err := peer.IDFromBytes(t.Device)
		if err != nil {
			return fail(fmt.Errorf("device %d: %w", i, err))
		}
		if i > 0 && string(n.To[i-1].Device) >= string(t.Device) {
			return fail(errors.New("devices not sorted, or one twice"))
		}
		r.To = append(r.To, d)
		r.stanzas = append(r.stanzas, Stanza{Epk: t.Epk, Key: t.Key})
	}
	sig := n.Sig
	n.Sig = nil
	msg, err := marshal(n)
	if err != nil {
		return fail(err)
	}
	pub, err := r.By.ExtractPublicKey()
	if err != nil || pub.Type() != crypto.Ed25519 {
		return fail(fmt.Errorf("the key of %s is not Ed25519", r.By))
	}
	if ok, err := pub.Verify(append([]byte(labelKeysSig), msg...), sig); err != nil || !ok {
		return fail(errors.New("its signature does not verify"))
	}
	return r, nil
}

// Names reports whether the record was wrapped for device.
func (r *KeysRecord) Names(device peer.ID) bool {
	for _, d := range r.To {
		if d == device {
			return true
		}
	}
	return false
}

// OpenKeysRecord finds the epoch r hands out, from the epochs known here
// or by unwrapping its secret with this device's key me, and returns it
// with the older epochs it holds. It errs with ErrNotGiven when neither
// is possible.
func (a *Account) OpenKeysRecord(r *KeysRecord, me crypto.PrivKey) ([]Epoch, error) {
	if r.Account != a.id {
		return nil, errors.New("failed to open the keys record: it is another account's")
	}
	var e Epoch
	found := false
	for _, k := range a.epochs() {
		if !k.raw && k.N == r.N && k.id == r.ID {
			e, found = k.Epoch, true
			break
		}
	}
	if !found {
		id, err := peer.IDFromPrivateKey(me)
		if err != nil {
			return nil, fmt.Errorf("failed to open the keys record: %w", err)
		}
		i := -1
		for j, d := range r.To {
			if d == id {
				i = j
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("failed to open the keys record of epoch %d: %w", r.N, ErrNotGiven)
		}
		priv, pub, err := deviceBoxKey(me)
		if err != nil {
			return nil, fmt.Errorf("failed to open the keys record: %w", err)
		}
		s, err := unwrapKey(r.stanzas[i:i+1], priv, pub)
		if err != nil {
			return nil, fmt.Errorf("failed to open the keys record of epoch %d: the secret wrapped for this device does not open: %w", r.N, ErrWrongKey)
		}
		e = Epoch{N: r.N, Secret: s}
		if e.ID() != r.ID {
			return nil, fmt.Errorf("failed to open the keys record of epoch %d: the secret does not match its id", r.N)
		}
	}
	k, ad := olderSeal(e)
	plain, err := openBody(&k, ad, r.older)
	if err != nil {
		return nil, fmt.Errorf("failed to open the older epochs of the keys record: %w", err)
	}
	var older []olderEpoch
	if err := unmarshal(plain, &older); err != nil {
		return nil, fmt.Errorf("failed to open the older epochs of the keys record: %w", err)
	}
	out := []Epoch{e}
	for _, o := range older {
		if o.N == 0 || len(o.Secret) != SecretSize {
			return nil, errors.New("failed to open the older epochs of the keys record: an epoch 0 or a secret not of 32 bytes")
		}
		var oe Epoch
		oe.N = o.N
		copy(oe.Secret[:], o.Secret)
		out = append(out, oe)
	}
	return out, nil
}

// p25519 is the field prime of Curve25519, 2^255 - 19.
var p25519 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// deviceBoxPublic is the X25519 public key of a device's Ed25519 peer ID:
// the Montgomery u = (1 + y) / (1 - y) of its Edwards point (the map age
// uses for ssh-ed25519 recipients).
func deviceBoxPublic(id peer.ID) ([32]byte, error) {
	var out [32]byte
	pk, err := id.ExtractPublicKey()
	if err != nil {
		return out, err
	}
	if pk.Type() != crypto.Ed25519 {
		return out, errors.New("its key is not Ed25519")
	}
	raw, err := pk.Raw()
	if err != nil || len(raw) != 32 {
		return out, errors.New("its Ed25519 key is not 32 bytes")
	}
	le := make([]byte, 32)
	for i := range 32 {
		le[31-i] = raw[i]
	}
	le[0] &= 0x7f // the sign bit of x
	y := new(big.Int).SetBytes(le)
	if y.Cmp(p25519) >= 0 {
		return out, errors.New("its Ed25519 key is not a point")
	}
	one := big.NewInt(1)
	num := new(big.Int).Add(one, y)
	den := new(big.Int).Sub(one, y)
	den.Mod(den, p25519)
	if den.Sign() == 0 {
		return out, errors.New("its Ed25519 key has no X25519 form")
	}
	u := num.Mul(num, den.ModInverse(den, p25519))
	u.Mod(u, p25519)
	be := u.FillBytes(make([]byte, 32))
	for i := range 32 {
		out[i] = be[31-i]
	}
	return out, nil
}

// deviceBoxKey is the X25519 key pair of a device's Ed25519 key: the
// scalar is the first half of SHA-512 of the seed, as Ed25519 itself uses.
func deviceBoxKey(k crypto.PrivKey) (priv, pub [32]byte, err error) {
	if k.Type() != crypto.Ed25519 {
		return priv, pub, errors.New("the device key is not Ed25519")
	}
	raw, err := k.Raw()
	if err != nil || len(raw) != 64 {
		return priv, pub, errors.New("the device's Ed25519 key is not 64 bytes")
	}
	h := sha512.Sum512(raw[:32])
	copy(priv[:], h[:32])
	p, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		return priv, pub, err
	}
	copy(pub[:], p)
	return priv, pub, nil
}
