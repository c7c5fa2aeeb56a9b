package replica

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Protocol is the stream protocol of replica requests.
const Protocol = "/peer/replica/1"

// MaxProbes bounds the blocks one request asks a holder to prove.
const MaxProbes = 16

// maxMessage bounds a request and a receipt on the wire.
const maxMessage = 8 << 10

// Roles a holder states in its receipt.
const (
	RoleDevice = "device" // a device of the account
	RoleDonor  = "donor"  // a donor that mirrors it
)

// Request asks a holder what it holds of Account, and to prove it holds
// the blocks Probes: for each, SHA-256(Nonce || the block's bytes).
type Request struct {
	Account peer.ID
	Nonce   [32]byte
	Probes  []cid.Cid
}

type wireRequest struct {
	Account []byte   `cbor:"account"`
	Nonce   []byte   `cbor:"nonce"`
	Probes  [][]byte `cbor:"probes"`
}

// Receipt is a holder's signed answer.
type Receipt struct {
	Holder  peer.ID // who signed it: the stream's remote peer
	Account peer.ID
	Role    string  // RoleDevice or RoleDonor; "" when it holds nothing
	Root    cid.Cid // the account root held (undefined: none)
	Head    cid.Cid // its head snapshot
	Seq     uint64  // the record that named Root
	Time    int64   // when it answered (unix nanoseconds)
	Nonce   [32]byte
	// Proofs has one entry per probe asked, in order: SHA-256(nonce ||
	// block) for a block held, empty for one not held.
	Proofs [][]byte
	Sig    []byte
}

type wireReceipt struct {
	Holder  []byte   `cbor:"holder"`
	Account []byte   `cbor:"account"`
	Role    string   `cbor:"role"`
	Root    []byte   `cbor:"root"`
	Head    []byte   `cbor:"head"`
	Seq     uint64   `cbor:"seq"`
	Time    int64    `cbor:"time"`
	Nonce   []byte   `cbor:"nonce"`
	Proofs  [][]byte `cbor:"proofs"`
	Sig     []byte   `cbor:"sig,omitempty"`
}

var (
	encMode = func() cbor.EncMode {
		m, err := cbor.CoreDetEncOptions().EncMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
	decMode = func() cbor.DecMode {
		m, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF, MaxArrayElements: MaxProbes, MaxMapPairs: 16, MaxNestedLevels: 4, ExtraReturnErrors: cbor.ExtraDecErrorUnknownField}.DecMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
)

// Proof is what a holder of block data answers to nonce.
func Proof(nonce [32]byte, data []byte) []byte {
	h := sha256.New()
	h.Write(nonce[:])
	h.Write(data)
	return h.Sum(nil)
}

func cidBytes(c cid.Cid) []byte {
	if !c.Defined() {
		return []byte{}
	}
	return c.Bytes()
}

func castCID(b []byte) (cid.Cid, error) {
	if len(b) == 0 {
		return cid.Undef, nil
	}
	return cid.Cast(b)
}

// marshalRequest encodes r.
func marshalRequest(r Request) ([]byte, error) {
	if len(r.Probes) > MaxProbes {
		return nil, fmt.Errorf("%d probes, more than %d", len(r.Probes), MaxProbes)
	}
	w := wireRequest{Account: []byte(r.Account), Nonce: r.Nonce[:], Probes: make([][]byte, len(r.Probes))}
	for i, c := range r.Probes {
		w.Probes[i] = c.Bytes()
	}
	return encMode.Marshal(w)
}

// unmarshalRequest decodes a request from the network, strictly.
func unmarshalRequest(b []byte) (Request, error) {
	var w wireRequest
	if len(b) > maxMessage {
		return Request{}, fmt.Errorf("a request of %d bytes", len(b))
	}
	if err := decMode.Unmarshal(b, &w); err != nil {
		return Request{}, fmt.Errorf("bad request: %w", err)
	}
	if again, err := encMode.Marshal(w); err != nil || !bytes.Equal(again, b) {
		return Request{}, errors.New("bad request: not in canonical form")
	}
	acct, err := peer.IDFromBytes(w.Account)
	if err != nil || len(w.Nonce) != 32 || len(w.Probes) > MaxProbes {
		return Request{}, fmt.Errorf("bad request: account (%v), nonce of %d bytes, %d probes", err, len(w.Nonce), len(w.Probes))
	}
	r := Request{Account: acct, Probes: make([]cid.Cid, len(w.Probes))}
	copy(r.Nonce[:], w.Nonce)
	for i, p := range w.Probes {
		if r.Probes[i], err = cid.Cast(p); err != nil {
			return Request{}, fmt.Errorf("bad request: probe %d: %w", i, err)
		}
	}
	return r, nil
}

func (r Receipt) wire() wireReceipt {
	w := wireReceipt{Holder: []byte(r.Holder), Account: []byte(r.Account), Role: r.Role, Root: cidBytes(r.Root), Head: cidBytes(r.Head),
		Seq: r.Seq, Time: r.Time, Nonce: r.Nonce[:], Proofs: r.Proofs}
	if w.Proofs == nil {
		w.Proofs = [][]byte{}
	}
	return w
}

// signed is what a receipt's signature covers.
func signed(w wireReceipt) ([]byte, error) {
	w.Sig = nil
	b, err := encMode.Marshal(w)
	if err != nil {
		return nil, err
	}
	return append([]byte("peer/v1 replica receipt\x00"), b...), nil
}

// sign signs r with the holder's key and encodes it.
func sign(r Receipt, key crypto.PrivKey) ([]byte, error) {
	w := r.wire()
	msg, err := signed(w)
	if err != nil {
		return nil, err
	}
	if w.Sig, err = key.Sign(msg); err != nil {
		return nil, fmt.Errorf("failed to sign a receipt: %w", err)
	}
	return encMode.Marshal(w)
}

// openReceipt decodes a receipt from the network and checks its
// signature by the key of its holder.
func openReceipt(b []byte) (Receipt, error) {
	var w wireReceipt
	if len(b) > maxMessage {
		return Receipt{}, fmt.Errorf("a receipt of %d bytes", len(b))
	}
	if err := decMode.Unmarshal(b, &w); err != nil {
		return Receipt{}, fmt.Errorf("bad receipt: %w", err)
	}
	if again, err := encMode.Marshal(w); err != nil || !bytes.Equal(again, b) {
		return Receipt{}, errors.New("bad receipt: not in canonical form")
	}
	holder, err := peer.IDFromBytes(w.Holder)
	if err != nil {
		return Receipt{}, fmt.Errorf("bad receipt: holder: %w", err)
	}
	acct, err := peer.IDFromBytes(w.Account)
	if err != nil || len(w.Nonce) != 32 {
		return Receipt{}, fmt.Errorf("bad receipt: account (%v) or nonce of %d bytes", err, len(w.Nonce))
	}
	r := Receipt{Holder: holder, Account: acct, Role: w.Role, Seq: w.Seq, Time: w.Time, Proofs: w.Proofs, Sig: w.Sig}
	copy(r.Nonce[:], w.Nonce)
	if r.Root, err = castCID(w.Root); err != nil {
		return Receipt{}, fmt.Errorf("bad receipt: root: %w", err)
	}
	if r.Head, err = castCID(w.Head); err != nil {
		return Receipt{}, fmt.Errorf("bad receipt: head: %w", err)
	}
	for _, p := range r.Proofs {
		if len(p) != 0 && len(p) != sha256.Size {
			return Receipt{}, fmt.Errorf("bad receipt: a proof of %d bytes", len(p))
		}
	}
	switch r.Role {
	case "", RoleDevice, RoleDonor:
	default:
		return Receipt{}, fmt.Errorf("bad receipt: role %q", r.Role)
	}
	pub, err := holder.ExtractPublicKey()
	if err != nil {
		return Receipt{}, fmt.Errorf("bad receipt: the holder's ID holds no key: %w", err)
	}
	msg, err := signed(w)
	if err != nil {
		return Receipt{}, err
	}
	if ok, err := pub.Verify(msg, w.Sig); err != nil || !ok {
		return Receipt{}, errors.New("bad receipt: not signed by its holder")
	}
	return r, nil
}
