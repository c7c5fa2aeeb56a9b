package vault

import (
	"bytes"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestPhraseRoundTrip(t *testing.T) {
	// The BIP-39 vector for 32 zero bytes.
	zero, err := AccountFromSecret(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("abandon ", 23) + "art"
	if zero.Phrase() != want {
		t.Fatalf("phrase of zero secret %q", zero.Phrase())
	}
	a := testAccount(t, 7)
	b, err := AccountFromPhrase("  " + strings.ToUpper(a.Phrase()) + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if b.ID() != a.ID() || !bytes.Equal(b.Secret(), a.Secret()) {
		t.Fatal("restored a different account")
	}
	words := strings.Fields(a.Phrase())
	words[3], words[4] = words[4], words[3]
	for _, bad := range []string{strings.Join(words, " "), "abandon", strings.Repeat("abandon ", 23) + "zzz"} {
		if _, err := AccountFromPhrase(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if !strings.HasPrefix(a.ID(), "k51") {
		t.Fatalf("account ID %s", a.ID())
	}
	id, err := ParseAccountID(a.ID())
	if err != nil || id != a.PeerID() {
		t.Fatalf("parse %v %v", id, err)
	}
}

func TestDeviceCert(t *testing.T) {
	a := testAccount(t, 1)
	_, pub, _ := crypto.GenerateEd25519Key(nil)
	dev, _ := peer.IDFromPublicKey(pub)
	c, err := a.CertifyDevice(dev, "laptop", 5)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseDeviceCert(b)
	if err != nil || got.Device != dev || got.Account != a.PeerID() || got.Name != "laptop" {
		t.Fatalf("%+v %v", got, err)
	}
	// Claiming the certificate for another account fails.
	c.Account = testAccount(t, 2).PeerID()
	b, _ = c.Marshal()
	if _, err := ParseDeviceCert(b); err == nil {
		t.Fatal("forged certificate accepted")
	}
}
