package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func deviceKey(t testing.TB) (crypto.PrivKey, peer.ID) {
	t.Helper()
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	return sk, id
}

func TestRevocation(t *testing.T) {
	a, err := NewAccount(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	bySK, by := deviceKey(t)
	_, gone := deviceKey(t)
	r, err := a.RevokeDevice(gone, bySK, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseRevocation(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Account != a.PeerID() || got.Device != gone || got.By != by || got.Time != 42 {
		t.Fatalf("parsed %+v", got)
	}
	if _, err := a.RevokeDevice(by, bySK, 1); err == nil {
		t.Fatal("a device removed itself")
	}

	// Another account's key, or a forged remover, does not verify.
	other, _ := NewAccount(rand.Reader)
	forged := *r
	forged.Sig, _ = other.SigningKey().Sign([]byte("x"))
	fb, _ := forged.Marshal()
	if _, err := ParseRevocation(fb); err == nil {
		t.Fatal("a revocation with a bad account signature parsed")
	}
	_, someone := deviceKey(t)
	forged = *r
	forged.By = someone // claims another remover; BySig is by's
	msg, _ := forged.unsigned()
	forged.Sig, _ = a.SigningKey().Sign(append([]byte(labelRevoke), msg...))
	fb, _ = forged.Marshal()
	if _, err := ParseRevocation(fb); err == nil {
		t.Fatal("a revocation naming a remover that did not sign it parsed")
	}
	// Every byte flipped is refused.
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		if _, err := ParseRevocation(c); err == nil {
			t.Fatalf("flipping byte %d still parses", i)
		}
	}
}

func TestRootRevoked(t *testing.T) {
	ctx := context.Background()
	a, _ := NewAccount(rand.Reader)
	bs := newMem()
	v := New(a, bs)
	// Without revocations a root is as before: no "revoked" key.
	c, err := v.WriteRoot(ctx, Root{Box: a.BoxPublic()})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := bs.Get(ctx, c)
	if bytes.Contains(raw, []byte("revoked")) {
		t.Fatal("a root without revocations has a revoked key")
	}
	bySK, _ := deviceKey(t)
	_, gone := deviceKey(t)
	r, _ := a.RevokeDevice(gone, bySK, 7)
	rb, _ := r.Marshal()
	c, err = v.WriteRoot(ctx, Root{Box: a.BoxPublic(), Revoked: [][]byte{rb}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadRoot(ctx, bs, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Revoked) != 1 || !bytes.Equal(got.Revoked[0], rb) {
		t.Fatalf("revoked %x", got.Revoked)
	}
}

func FuzzParseRevocation(f *testing.F) {
	a, _ := NewAccount(bytes.NewReader(make([]byte, 32)))
	bySK, _ := deviceKey(f)
	_, gone := deviceKey(f)
	r, _ := a.RevokeDevice(gone, bySK, 1)
	b, _ := r.Marshal()
	f.Add(b)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRevocation(b)
		if err != nil {
			return
		}
		again, err := r.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("parsed revocation encodes to %x, was %x", again, b)
		}
	})
}
