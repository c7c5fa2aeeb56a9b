package donor

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// signedAsk is a request of the account key key for donor self.
func signedAsk(t testing.TB, key crypto.PrivKey, self peer.ID, at time.Time) []byte {
	id, _ := peer.IDFromPrivateKey(key)
	r := askRequest{Account: []byte(id), Donor: []byte(self), Time: at.UnixNano()}
	msg, err := askSigned(r)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sig, err = key.Sign(msg); err != nil {
		t.Fatal(err)
	}
	b, _ := cbor.Marshal(r)
	return b
}

// TestCheckAsk: a request opens only for its donor, recent, signed by the
// account it names.
func TestCheckAsk(t *testing.T) {
	s := &Service{}
	acct, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	other, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	self, _ := peer.IDFromPrivateKey(other)
	id, _ := peer.IDFromPrivateKey(acct)
	if got, err := s.checkAsk(signedAsk(t, acct, self, time.Now()), self); err != nil || got != id {
		t.Fatalf("a good request: %v, %v", got, err)
	}
	for what, c := range map[string]struct {
		b    []byte
		want string
	}{
		"for another donor": {signedAsk(t, acct, id, time.Now()), "another donor"},
		"an hour old":       {signedAsk(t, acct, self, time.Now().Add(-time.Hour)), "too far"},
		"garbage":           {[]byte{0xff}, "bad request"},
	} {
		if _, err := s.checkAsk(c.b, self); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", what, err, c.want)
		}
	}
	// Signed by another key than the account's.
	var r askRequest
	cbor.Unmarshal(signedAsk(t, other, self, time.Now()), &r)
	r.Account = []byte(id)
	b, _ := cbor.Marshal(r)
	if _, err := s.checkAsk(b, self); err == nil || !strings.Contains(err.Error(), "not signed by the account") {
		t.Errorf("a request signed by another key: %v", err)
	}
}

// FuzzCheckAsk feeds any bytes to the decoder of requests from the
// network: errors are fine, panics are not.
func FuzzCheckAsk(f *testing.F) {
	acct, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	self, _ := peer.IDFromPrivateKey(acct)
	f.Add(signedAsk(f, acct, self, time.Now()))
	f.Add([]byte{0xa0})
	s := &Service{}
	f.Fuzz(func(t *testing.T, b []byte) {
		s.checkAsk(b, self)
	})
}
