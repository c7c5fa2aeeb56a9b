package vault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"

	ds "github.com/ipfs/go-datastore"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/vault"
)

// BenchmarkAddBadger adds 1 GiB of random bytes through the vault into the
// real Badger store, as 'peer add' does without the HTTP hop, then reads
// it back (BenchmarkGetBadger).
func BenchmarkAddBadger(b *testing.B) {
	ctx := context.Background()
	data := make([]byte, 1<<30)
	io.ReadFull(rand.Reader, data)
	acct, err := vault.NewAccount(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		b.StopTimer()
		s, err := blockstore.Open(ctx, b.TempDir(), blockstore.ProfileDefault, nil)
		if err != nil {
			b.Fatal(err)
		}
		v := vault.New(acct, vault.LocalBlocks(s.Blockstore()))
		b.StartTimer()
		if _, err := v.WriteFile(ctx, bytes.NewReader(data), vault.FileInput{Name: "f"}); err != nil {
			b.Fatal(err)
		}
		if err := s.Datastore().Sync(ctx, ds.NewKey("/")); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

func BenchmarkGetBadger(b *testing.B) {
	ctx := context.Background()
	data := make([]byte, 1<<30)
	io.ReadFull(rand.Reader, data)
	acct, _ := vault.NewAccount(rand.Reader)
	s, err := blockstore.Open(ctx, b.TempDir(), blockstore.ProfileDefault, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	v := vault.New(acct, vault.LocalBlocks(s.Blockstore()))
	fv, err := v.WriteFile(ctx, bytes.NewReader(data), vault.FileInput{Name: "f"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := v.ReadRange(ctx, fv, io.Discard, 0, -1); err != nil {
			b.Fatal(err)
		}
	}
}
