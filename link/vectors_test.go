package link

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// vectorPeer is the peer ID of the Ed25519 key whose seed is 32 bytes of b.
func vectorPeer(t *testing.T, b byte) peer.ID {
	t.Helper()
	sk := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32))
	pub, err := crypto.UnmarshalEd25519PublicKey(sk.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestVectors fixes the URI and the protocol's derivations for fixed
// inputs (docs: "Link protocol", test vectors): offerer key seed 32×0x01,
// joiner 32×0x02, secret 0x00..0x0f, expiry 1900000000, nonces 32×0xaa
// (offerer) and 32×0xbb (joiner), name "laptop".
func TestVectors(t *testing.T) {
	a, b := vectorPeer(t, 1), vectorPeer(t, 2)
	var secret [SecretSize]byte
	for i := range secret {
		secret[i] = byte(i)
	}
	u := URI{Peer: a, Secret: secret, Expires: time.Unix(1_900_000_000, 0),
		Addrs: []ma.Multiaddr{ma.StringCast("/ip4/192.168.1.20/tcp/4010"), ma.StringCast("/ip4/192.168.1.20/udp/4010/quic-v1")}}
	nonceA, nonceB := bytes.Repeat([]byte{0xaa}, NonceSize), bytes.Repeat([]byte{0xbb}, NonceSize)
	s := newSession(secret, a, b, nonceA, nonceB, "laptop")
	got := map[string]string{
		"offerer":     a.String(),
		"joiner":      b.String(),
		"uri":         u.String(),
		"key":         hex.EncodeToString(s.key),
		"transcript":  hex.EncodeToString(s.transcript),
		"joiner mac":  hex.EncodeToString(s.mac(labelJoiner)),
		"offerer mac": hex.EncodeToString(s.mac(labelOfferer)),
		"welcome key": hex.EncodeToString(s.mac(labelWelcome)),
		"fingerprint": s.fingerprint(),
	}
	for k, want := range vectors {
		if got[k] != want {
			t.Errorf("%s:\n got %s\nwant %s", k, got[k], want)
		}
	}
	if len(vectors) != len(got) {
		for k, v := range got {
			t.Logf("%q: %q,", k, v)
		}
		t.Fatal("vectors incomplete")
	}
}

var vectors = map[string]string{
	"offerer":     "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5",
	"joiner":      "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq",
	"uri":         "PEER-LINK:1:EYACICABCIQIVCHD3V2AT4MV7VJNWLJ4XJOXFSTHBG7R3FASDPZXJCABWQHW6XAAAEBAGBAFAYDQQCIKBMGA2DQPOE73GAACBACMBKABCQDA7KQLATAKQAIUSEBA7KWNAPXDUMFR",
	"key":         "2411e37aa15c377d81e9b963599af9a7297de306ca86034873a573e796c2eedd",
	"transcript":  "000c2f706565722f6c696e6b2f3100260024080112208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c00260024080112208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b3940020aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0020bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb00066c6170746f70",
	"joiner mac":  "1b326280aeb9311dc142c1bf52c5c85b86f436fb5e86f10faa2c6acac88b6a15",
	"offerer mac": "1aa1a6c8f14896c4c1ab9d475875f3eae471b3ee07e837ae9ca86d4b0543cade",
	"welcome key": "d253b8a0d1e8f9cd391917cdc3804b62e3b0c1665436810b57d80b3b5bb6b601",
	"fingerprint": "133 047",
}
