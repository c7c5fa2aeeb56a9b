package vault

import (
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// labelDevice prefixes the bytes an account signs in a device certificate.
const labelDevice = "peer/v1 device certificate\x00"

// DeviceCert is an account's statement that a libp2p identity is one of
// its devices (SPEC.md, "Device certificate").
type DeviceCert struct {
	Account peer.ID
	Device  peer.ID
	Name    string
	Created int64 // unix nanoseconds
	Sig     []byte
}

type certNode struct {
	Type    string `cbor:"type"`
	V       int    `cbor:"v"`
	Account []byte `cbor:"account"`
	Device  []byte `cbor:"device"`
	Name    string `cbor:"name"`
	Created int64  `cbor:"created"`
	Sig     []byte `cbor:"sig,omitempty"`
}

func (c *DeviceCert) node() certNode {
	return certNode{Type: "device", V: 1, Account: []byte(c.Account), Device: []byte(c.Device), Name: c.Name, Created: c.Created, Sig: c.Sig}
}

// signedBytes are what the signature covers: the label, then the
// certificate without its sig field.
func (c *DeviceCert) signedBytes() ([]byte, error) {
	n := c.node()
	n.Sig = nil
	b, err := marshal(n)
	if err != nil {
		return nil, err
	}
	return append([]byte(labelDevice), b...), nil
}

// errSignature is the error about a certificate whose signature is not
// the account's.
var errSignature = errors.New("device certificate signature does not verify: it was not made by this account")

// CertifyDevice signs a certificate for device.
func (a *Account) CertifyDevice(device peer.ID, name string, created int64) (*DeviceCert, error) {
	c := &DeviceCert{Account: a.id, Device: device, Name: name, Created: created}
	msg, err := c.signedBytes()
	if err != nil {
		return nil, err
	}
	if c.Sig, err = a.SigningKey().Sign(msg); err != nil {
		return nil, fmt.Errorf("failed to sign device certificate: %w", err)
	}
	return c, nil
}

// Marshal encodes the certificate as DAG-CBOR.
func (c *DeviceCert) Marshal() ([]byte, error) { return marshal(c.node()) }

// ParseDeviceCert decodes a certificate and checks its signature against
// the account it names.
func ParseDeviceCert(b []byte) (*DeviceCert, error) {
	// The order of checks of every node (SPEC.md, "Order of checks").
	typ, version, err := peekHead(b)
	switch {
	case err != nil:
		return nil, fmt.Errorf("failed to decode device certificate: %w", err)
	case typ != "device":
		return nil, fmt.Errorf("failed to decode device certificate: %w: it is %q", errType, typ)
	case version != 1:
		return nil, fmt.Errorf("failed to decode device certificate: %w", versionError(version))
	}
	var n certNode
	if err := unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("failed to decode device certificate: %w", err)
	}
	if len(n.Sig) == 0 {
		return nil, fmt.Errorf("failed to decode device certificate: %w: no sig", errDecode)
	}
	acct, err := peer.IDFromBytes(n.Account)
	if err != nil {
		return nil, fmt.Errorf("failed to decode device certificate: account: %w", err)
	}
	dev, err := peer.IDFromBytes(n.Device)
	if err != nil {
		return nil, fmt.Errorf("failed to decode device certificate: device: %w", err)
	}
	c := &DeviceCert{Account: acct, Device: dev, Name: n.Name, Created: n.Created, Sig: n.Sig}
	pub, err := acct.ExtractPublicKey()
	if err != nil {
		return nil, fmt.Errorf("failed to check device certificate: account key: %w", err)
	}
	if pub.Type() != crypto.Ed25519 {
		return nil, errors.New("failed to check device certificate: account key is not Ed25519")
	}
	msg, err := c.signedBytes()
	if err != nil {
		return nil, err
	}
	ok, err := pub.Verify(msg, c.Sig)
	if err != nil || !ok {
		return nil, errSignature
	}
	return c, nil
}
