package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
)

// TestEnvelope: an envelope opens for each of its recipients with the
// file's key and entry, not for another account, not when a byte of it
// changed; the sender reads its owner part back.
func TestEnvelope(t *testing.T) {
	ctx := context.Background()
	newVault := func() *Vault {
		a, err := NewAccount(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return New(a, newMem())
	}
	sender, b, c, third := newVault(), newVault(), newVault(), newVault()
	fv, err := sender.WriteFile(ctx, bytes.NewReader([]byte("for b and c")), FileInput{Name: "note.txt", Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{Name: "note.txt", Kind: KindFile, CID: fv.CID, Key: fv.Key, Size: fv.Size, Mode: 0o644}
	ids := []string{b.Account().ID(), c.Account().ID()}
	blk, err := sender.WriteEnvelope(ctx, nil, e, [][32]byte{b.Account().BoxPublic(), c.Account().BoxPublic()}, ids, 42)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Vault{b, c} {
		got, err := r.OpenEnvelope(blk.Cid(), blk.RawData())
		if err != nil {
			t.Fatal(err)
		}
		if got.From != sender.Account().ID() || got.Version != fv.CID || got.Key != fv.Key || got.Name != "note.txt" || got.Time != 42 {
			t.Fatalf("opened %+v", got)
		}
	}
	if _, err := third.OpenEnvelope(blk.Cid(), blk.RawData()); !errors.Is(err, ErrNotForUs) {
		t.Fatalf("a third account opens the envelope: %v", err)
	}
	bad := bytes.Clone(blk.RawData())
	bad[len(bad)-3] ^= 1
	if _, err := b.OpenEnvelope(blk.Cid(), bad); err == nil {
		t.Fatal("a changed envelope opens")
	}
	s, err := sender.EnvelopeOwner(ctx, blk.Cid())
	if err != nil || len(s.Recipients) != 2 || s.Recipients[1] != ids[1] || s.Made != 42 {
		t.Fatalf("owner part: %+v, %v", s, err)
	}
	if _, err := b.EnvelopeOwner(ctx, blk.Cid()); err == nil {
		t.Fatal("a recipient opens the sender's owner part")
	}
}
