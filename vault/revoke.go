package vault

import (
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Labels prefixing the bytes a revocation's two signatures cover: the
// account's, and the revoking device's own (so that who removed a device
// is known, not just claimed: every device holds the account key).
const (
	labelRevoke   = "peer/v1 device revocation\x00"
	labelRevokeBy = "peer/v1 device revocation by\x00"
)

// Revocation is an account's statement that a device is no longer one of
// its devices, made by another of its devices (SPEC.md, "Device
// revocation"). Revocations are never withdrawn: a device that learns one
// keeps it, and lists it in every account root it writes.
type Revocation struct {
	Account peer.ID
	Device  peer.ID // the device removed
	By      peer.ID // the device that removed it
	Time    int64   // unix nanoseconds, as the removing device's clock said
	Sig     []byte  // the account key's
	BySig   []byte  // By's device key's
}

type revokeNode struct {
	Type    string `cbor:"type"`
	V       int    `cbor:"v"`
	Account []byte `cbor:"account"`
	Device  []byte `cbor:"device"`
	By      []byte `cbor:"by"`
	Time    int64  `cbor:"time"`
	Sig     []byte `cbor:"sig,omitempty"`
	BySig   []byte `cbor:"by_sig,omitempty"`
}

func (r *Revocation) node() revokeNode {
	return revokeNode{Type: "revoke", V: 1, Account: []byte(r.Account), Device: []byte(r.Device), By: []byte(r.By), Time: r.Time, Sig: r.Sig, BySig: r.BySig}
}

// unsigned is the statement without its signatures; each signature
// covers its label followed by these bytes.
func (r *Revocation) unsigned() ([]byte, error) {
	n := r.node()
	n.Sig, n.BySig = nil, nil
	return marshal(n)
}

// RevokeDevice makes the account's revocation of device, signed by the
// account and by the removing device's key by.
func (a *Account) RevokeDevice(device peer.ID, by crypto.PrivKey, time int64) (*Revocation, error) {
	byID, err := peer.IDFromPrivateKey(by)
	if err != nil {
		return nil, fmt.Errorf("failed to revoke device: the removing device's key: %w", err)
	}
	if byID == device {
		return nil, errors.New("failed to revoke device: a device cannot remove itself; remove it from another device of the account")
	}
	r := &Revocation{Account: a.id, Device: device, By: byID, Time: time}
	msg, err := r.unsigned()
	if err != nil {
		return nil, err
	}
	if r.Sig, err = a.SigningKey().Sign(append([]byte(labelRevoke), msg...)); err != nil {
		return nil, fmt.Errorf("failed to sign revocation: %w", err)
	}
	if r.BySig, err = by.Sign(append([]byte(labelRevokeBy), msg...)); err != nil {
		return nil, fmt.Errorf("failed to sign revocation: %w", err)
	}
	return r, nil
}

// Marshal encodes the revocation as DAG-CBOR.
func (r *Revocation) Marshal() ([]byte, error) { return marshal(r.node()) }

// errRevocationSig is the error about a revocation whose signatures do not
// verify.
var errRevocationSig = errors.New("device revocation signature does not verify")

// ParseRevocation decodes a revocation and checks both its signatures:
// the account's it names, and the removing device's.
func ParseRevocation(b []byte) (*Revocation, error) {
	typ, version, err := peekHead(b)
	switch {
	case err != nil:
		return nil, fmt.Errorf("failed to decode device revocation: %w", err)
	case typ != "revoke":
		return nil, fmt.Errorf("failed to decode device revocation: %w: it is %q", errType, typ)
	case version != 1:
		return nil, fmt.Errorf("failed to decode device revocation: %w", versionError(version))
	}
	var n revokeNode
	if err := unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("failed to decode device revocation: %w", err)
	}
	if len(n.Sig) == 0 || len(n.BySig) == 0 {
		return nil, errors.New("failed to decode device revocation: it is not signed")
	}
	var ids [3]peer.ID
	for i, f := range []struct {
		name string
		b    []byte
	}{{"account", n.Account}, {"device", n.Device}, {"by", n.By}} {
		if ids[i], err = peer.IDFromBytes(f.b); err != nil {
			return nil, fmt.Errorf("failed to decode device revocation: %s: %w", f.name, err)
		}
	}
	r := &Revocation{Account: ids[0], Device: ids[1], By: ids[2], Time: n.Time, Sig: n.Sig, BySig: n.BySig}
	if r.Device == r.By {
		return nil, errors.New("failed to decode device revocation: the device removes itself")
	}
	msg, err := r.unsigned()
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		id    peer.ID
		label string
		sig   []byte
	}{{r.Account, labelRevoke, r.Sig}, {r.By, labelRevokeBy, r.BySig}} {
		pub, err := s.id.ExtractPublicKey()
		if err != nil {
			return nil, fmt.Errorf("failed to check device revocation: key of %s: %w", s.id, err)
		}
		if pub.Type() != crypto.Ed25519 {
			return nil, fmt.Errorf("failed to check device revocation: key of %s is not Ed25519", s.id)
		}
		if ok, err := pub.Verify(append([]byte(s.label), msg...), s.sig); err != nil || !ok {
			return nil, errRevocationSig
		}
	}
	return r, nil
}
