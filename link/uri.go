// Package link pairs a new device with a running device of the account
// (SPEC.md, "Linking a device"). The running device makes an offer: a
// link URI, shown as text and as a QR code, holding its peer ID, its LAN
// addresses, a one-time secret and an expiry. The new device dials it
// over libp2p (which authenticates the running device by its peer ID),
// both prove the secret with MACs over the protocol id, both peer IDs
// and both nonces, both screens show a short fingerprint, and once the
// running device's user confirms, it sends the account's root secret and
// a certificate for the new device's key. An offer is used once, expires,
// and dies after one wrong proof.
package link

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Limits of a link URI.
const (
	// SecretSize is the size of an offer's one-time secret (128 bits).
	SecretSize = 16
	// MaxAddrs is the most addresses a URI holds.
	MaxAddrs = 3
	// maxField bounds a peer ID's or an address's bytes.
	maxField = 64
	// checkSize is the size of the URI's checksum.
	checkSize = 4
	// maxURI bounds the text Parse looks at.
	maxURI = 512
)

// Prefix starts every link URI of this version. The rest is base32
// (RFC 4648, no padding), so the whole URI fits a QR code's alphanumeric
// mode.
const Prefix = "PEER-LINK:1:"

// b32 is the URI's base32: RFC 4648's alphabet, no padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// URI is a link offer as the new device reads it.
type URI struct {
	// Peer is the running device's peer ID.
	Peer peer.ID
	// Addrs are its LAN addresses (TCP or QUIC over IPv4 or IPv6).
	Addrs []ma.Multiaddr
	// Secret is the offer's one-time secret.
	Secret [SecretSize]byte
	// Expires is when the offer ends (whole seconds).
	Expires time.Time
}

// Errors of Parse that callers tell apart.
var (
	// ErrNotLink says the text is not a link URI at all.
	ErrNotLink = errors.New("not a peer link (a link starts with " + Prefix + "; make one with 'peer link' on a running device)")
	// ErrDamaged says the URI's checksum does not match: a character is
	// wrong or missing.
	ErrDamaged = errors.New("the link is damaged or mistyped (its checksum does not match): copy it again; nothing was sent")
)

// String formats u as its URI.
func (u URI) String() string {
	s, err := u.format()
	if err != nil {
		return "PEER-LINK:invalid"
	}
	return s
}

func (u URI) format() (string, error) {
	var b bytes.Buffer
	id := []byte(u.Peer)
	if len(id) == 0 || len(id) > maxField {
		return "", fmt.Errorf("peer ID of %d bytes", len(id))
	}
	if len(u.Addrs) == 0 || len(u.Addrs) > MaxAddrs {
		return "", fmt.Errorf("%d addresses, want 1 to %d", len(u.Addrs), MaxAddrs)
	}
	exp := u.Expires.Unix()
	if exp <= 0 || exp > 1<<32-1 {
		return "", fmt.Errorf("expiry %s out of range", u.Expires)
	}
	b.WriteByte(byte(len(id)))
	b.Write(id)
	b.Write(u.Secret[:])
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(exp)))
	b.WriteByte(byte(len(u.Addrs)))
	for _, a := range u.Addrs {
		ab := a.Bytes()
		if err := checkAddr(a); err != nil {
			return "", err
		}
		if len(ab) > maxField {
			return "", fmt.Errorf("address %s of %d bytes", a, len(ab))
		}
		b.WriteByte(byte(len(ab)))
		b.Write(ab)
	}
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:checkSize])
	return Prefix + b32.EncodeToString(b.Bytes()), nil
}

// asciiSpace is the white space Parse trims.
const asciiSpace = " \t\r\n"

// Parse reads a link URI. Surrounding (ASCII) white space and the case of the
// letters do not matter (a typed URI may be lower case); anything else
// that is not exactly what String writes is refused.
func Parse(s string) (URI, error) {
	if len(s) > maxURI {
		return URI{}, fmt.Errorf("%w: %d characters is too long", ErrNotLink, len(s))
	}
	s = strings.Trim(s, asciiSpace)
	for i := range len(s) {
		if s[i] >= 0x80 {
			return URI{}, ErrNotLink
		}
	}
	s = strings.ToUpper(s)
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		if after, isLink := strings.CutPrefix(s, "PEER-LINK:"); isLink {
			if v, _, found := strings.Cut(after, ":"); found && len(v) <= 8 {
				return URI{}, fmt.Errorf("a link of version %q: this peer reads version 1 only; update peer", v)
			}
		}
		return URI{}, ErrNotLink
	}
	raw, err := b32.DecodeString(rest)
	if err != nil || b32.EncodeToString(raw) != rest {
		return URI{}, ErrDamaged
	}
	if len(raw) < checkSize {
		return URI{}, ErrDamaged
	}
	body, check := raw[:len(raw)-checkSize], raw[len(raw)-checkSize:]
	sum := sha256.Sum256(body)
	if !bytes.Equal(sum[:checkSize], check) {
		return URI{}, ErrDamaged
	}
	u, err := parseBody(body)
	if err != nil {
		return URI{}, fmt.Errorf("failed to read the link (made by an incompatible peer?): %w", err)
	}
	return u, nil
}

// parseBody reads the fields of a URI whose checksum matched.
func parseBody(b []byte) (URI, error) {
	var u URI
	r := bytes.NewReader(b)
	field := func(what string) ([]byte, error) {
		n, err := r.ReadByte()
		if err != nil || n == 0 || int(n) > maxField || int(n) > r.Len() {
			return nil, fmt.Errorf("bad length of its %s", what)
		}
		f := make([]byte, n)
		r.Read(f)
		return f, nil
	}
	id, err := field("peer ID")
	if err != nil {
		return u, err
	}
	if u.Peer, err = peer.IDFromBytes(id); err != nil {
		return u, fmt.Errorf("peer ID: %w", err)
	}
	if r.Len() < SecretSize+4+1 {
		return u, errors.New("too short")
	}
	r.Read(u.Secret[:])
	var exp [4]byte
	r.Read(exp[:])
	if e := binary.BigEndian.Uint32(exp[:]); e == 0 {
		return u, errors.New("no expiry")
	} else {
		u.Expires = time.Unix(int64(e), 0)
	}
	n, _ := r.ReadByte()
	if n == 0 || n > MaxAddrs {
		return u, fmt.Errorf("%d addresses, want 1 to %d", n, MaxAddrs)
	}
	for range n {
		ab, err := field("address")
		if err != nil {
			return u, err
		}
		a, err := ma.NewMultiaddrBytes(ab)
		if err != nil {
			return u, fmt.Errorf("address: %w", err)
		}
		if !bytes.Equal(a.Bytes(), ab) {
			return u, errors.New("address not in its canonical form")
		}
		if err := checkAddr(a); err != nil {
			return u, err
		}
		u.Addrs = append(u.Addrs, a)
	}
	if r.Len() != 0 {
		return u, fmt.Errorf("%d bytes after the addresses", r.Len())
	}
	return u, nil
}

// checkAddr accepts /ip4|ip6/A/tcp/P and /ip4|ip6/A/udp/P/quic-v1 with a
// port other than 0: what a LAN dial needs, nothing that names a host
// by DNS or reaches through a relay.
func checkAddr(a ma.Multiaddr) error {
	var codes []int
	var port string
	for i, c := range a {
		codes = append(codes, c.Code())
		if i == 1 {
			port = c.Value()
		}
	}
	ok := len(codes) >= 2 && (codes[0] == ma.P_IP4 || codes[0] == ma.P_IP6) &&
		((len(codes) == 2 && codes[1] == ma.P_TCP) ||
			(len(codes) == 3 && codes[1] == ma.P_UDP && codes[2] == ma.P_QUIC_V1))
	if !ok || port == "0" {
		return fmt.Errorf("address %s is not an IP address with a TCP or QUIC port", a)
	}
	return nil
}
