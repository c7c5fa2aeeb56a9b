package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/curve25519"
)

// TestEpochRotation: after a rotation, a copy of the account that knows
// only the root secret (a removed device) opens nothing written since,
// not even through a folder key it kept, while it and every device given
// the epoch still open all that came before.
func TestEpochRotation(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	acct := testAccount(t, 7)
	removed := testAccount(t, 7) // the same root secret, never given the epoch
	v, rv := New(acct, mem), New(removed, mem)

	write := func(tr *Tree, p string, data []byte) {
		t.Helper()
		fv, err := v.WriteFile(ctx, bytes.NewReader(data), FileInput{Name: p[strings.LastIndex(p, "/")+1:], Mode: 0o644})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.PutFile(ctx, p, fv); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Mkdir(ctx, "/docs", false, 1); err != nil {
		t.Fatal(err)
	}
	write(tr, "/old.txt", []byte("before the removal"))
	s0, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := s0.OpenTree(v).Stat(ctx, "/docs")
	if err != nil {
		t.Fatal(err)
	}
	oldBox := acct.BoxPublic()

	e1, err := acct.NewEpoch(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if e1.N != 1 || acct.Epoch() != e1 || acct.BoxPublic() == oldBox {
		t.Fatalf("epoch %d, box key changed: %v", acct.Epoch().N, acct.BoxPublic() != oldBox)
	}
	tr = s0.OpenTree(v)
	write(tr, "/new.txt", []byte("after the removal"))
	write(tr, "/docs/secret.txt", []byte("in an old folder"))
	s1, err := v.Commit(ctx, tr, s0)
	if err != nil {
		t.Fatal(err)
	}

	// The account reads both.
	got, err := v.OpenSnapshot(ctx, s1.CID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/old.txt", "/new.txt", "/docs/secret.txt"} {
		e, err := got.OpenTree(v).Stat(ctx, p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if _, err := v.OpenFile(ctx, e.CID, p); err != nil {
			t.Fatalf("%s by id: %v", p, err)
		}
	}
	// The removed copy reads the old snapshot, not the new one.
	if _, err := rv.OpenSnapshot(ctx, s0.CID); err != nil {
		t.Fatal(err)
	}
	if _, err := rv.OpenSnapshot(ctx, s1.CID); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the removed copy opened the new snapshot: %v", err)
	}
	// Nor the new tree with the root folder key it read from s0 and the
	// snapshot's tree link, in clear; nor an old folder's new version.
	if _, err := rv.OpenTree(s1.Tree, s0.RootKey).List(ctx, "/"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the removed copy listed the new tree: %v", err)
	}
	docs1, err := s1.OpenTree(v).Stat(ctx, "/docs")
	if err != nil {
		t.Fatal(err)
	}
	if docs1.Key != docs.Key {
		t.Fatal("a folder's key changed with the epoch")
	}
	if _, err := rv.OpenTree(docs1.CID, docs.Key).List(ctx, "/"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the removed copy listed the new version of an old folder: %v", err)
	}
	// Nor a new file by id.
	nf, _ := s1.OpenTree(v).Stat(ctx, "/new.txt")
	if _, err := rv.OpenFile(ctx, nf.CID, "/new.txt"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the removed copy opened a new file: %v", err)
	}

	// A device given the epoch reads everything.
	other := testAccount(t, 7)
	if added, err := other.AddEpochs(acct.Epochs()...); err != nil || !added {
		t.Fatalf("add epochs: %v %v", added, err)
	}
	ov := New(other, mem)
	got, err = ov.OpenSnapshot(ctx, s1.CID)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	e, _ := got.OpenTree(ov).Stat(ctx, "/docs/secret.txt")
	fv, err := ov.OpenFile(ctx, e.CID, "secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := ov.ReadRange(ctx, fv, &out, 0, -1); err != nil || out.String() != "in an old folder" {
		t.Fatalf("read %q: %v", out.String(), err)
	}
	// Restoring an old version re-uses its epoch-0 key.
	old, _ := got.OpenTree(ov).Stat(ctx, "/old.txt")
	ofv, err := ov.OpenFile(ctx, old.CID, "old")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ov.Revive(ctx, ofv, "old2.txt", cid.Undef); err != nil {
		t.Fatal(err)
	}
}

// TestKeysRecord: the record opens for the devices it names, gives the
// older epochs, and refuses others and forgeries.
func TestKeysRecord(t *testing.T) {
	acct := testAccount(t, 9)
	meSK, me := deviceKey(t)
	_, other := deviceKey(t)
	outSK, _ := deviceKey(t)
	e1, _ := acct.NewEpoch(rand.Reader)
	e2, _ := acct.NewEpoch(rand.Reader)
	b, err := acct.NewKeysRecord(rand.Reader, meSK, sortedIDs(me, other))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseKeysRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 2 || r.ID != e2.ID() || r.By != me || !r.Names(other) || !r.Names(me) {
		t.Fatalf("parsed %+v", r)
	}
	fresh := testAccount(t, 9)
	es, err := fresh.OpenKeysRecord(r, meSK)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0] != e2 || es[1] != e1 {
		t.Fatalf("opened %v", es)
	}
	if _, err := fresh.OpenKeysRecord(r, outSK); !errors.Is(err, ErrNotGiven) {
		t.Fatalf("a device not named: %v", err)
	}
	// A holder of e2 (its recovery key) opens it without a stanza.
	rk, err := ParseRecoveryKey(e2.RecoveryKey())
	if err != nil || rk != e2 {
		t.Fatalf("recovery key: %v", err)
	}
	held := testAccount(t, 9)
	held.AddEpochs(rk)
	if es, err := held.OpenKeysRecord(r, outSK); err != nil || len(es) != 2 {
		t.Fatalf("by the recovery key: %v %v", es, err)
	}
	// One changed byte anywhere fails the signature or the form.
	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 1
		if _, err := ParseKeysRecord(c); err == nil {
			t.Fatalf("byte %d changed, still parsed", i)
		}
	}
	if _, err := ParseRecoveryKey("0 " + e2.RecoveryKey()[2:]); err == nil {
		t.Fatal("epoch 0 recovery key parsed")
	}
	es2, err := ParseEpochs(MarshalEpochs(acct.Epochs()))
	if err != nil || len(es2) != 2 || es2[0] != e2 {
		t.Fatalf("epochs file: %v %v", es2, err)
	}
	if _, err := ParseEpochs([]byte("1 00\n")); err == nil {
		t.Fatal("a short secret parsed")
	}
	if es, err := ParseEpochs(nil); err != nil || len(es) != 0 {
		t.Fatalf("empty epochs file: %v %v", es, err)
	}
}

// TestDeviceBoxKey: the X25519 form of a device's public key is the
// public key of the X25519 form of its private key.
func TestDeviceBoxKey(t *testing.T) {
	for range 20 {
		sk, id := deviceKey(t)
		priv, pub, err := deviceBoxKey(sk)
		if err != nil {
			t.Fatal(err)
		}
		got, err := deviceBoxPublic(id)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := curve25519.X25519(priv[:], curve25519.Basepoint)
		if got != pub || !bytes.Equal(want, got[:]) {
			t.Fatal("the X25519 forms of a device key do not match")
		}
	}
}

func sortedIDs(ids ...peer.ID) []peer.ID {
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			if string(ids[j]) < string(ids[i]) {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
	}
	return ids
}

// FuzzKeysRecord: no input panics ParseKeysRecord, and whatever parses
// encodes one way.
func FuzzKeysRecord(f *testing.F) {
	acct, _ := AccountFromSecret(bytes.Repeat([]byte{3}, 32))
	sk, id := deviceKey(f)
	acct.NewEpoch(rand.Reader)
	b, err := acct.NewKeysRecord(rand.Reader, sk, []peer.ID{id})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseKeysRecord(b)
		if err != nil {
			return
		}
		acct.OpenKeysRecord(r, sk)
	})
}
