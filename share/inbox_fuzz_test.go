package share

import (
	"bytes"
	"context"
	"testing"

	"github.com/fxamacker/cbor/v2"
	bstore "github.com/ipfs/boxo/blockstore"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/peer-cloud/peer/vault"
)

// FuzzInboxMessage feeds any bytes to the check of inbox messages (they
// come from the network, on the inbox topic or a pushed stream): errors
// are fine, panics are not, and a message that passes names its signer
// as the envelope's sender.
func FuzzInboxMessage(f *testing.F) {
	ctx := context.Background()
	sender, _ := vault.AccountFromSecret(bytes.Repeat([]byte{1}, 32))
	recipient, _ := vault.AccountFromSecret(bytes.Repeat([]byte{2}, 32))
	mem := func() vault.Blocks {
		return vault.LocalBlocks(bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore())))
	}
	sv := vault.New(sender, mem())
	fv, err := sv.WriteFile(ctx, bytes.NewReader([]byte("hi")), vault.FileInput{Name: "hi.txt", Mode: 0o644})
	if err != nil {
		f.Fatal(err)
	}
	e := vault.Entry{Name: "hi.txt", Kind: vault.KindFile, CID: fv.CID, Key: fv.Key, Size: fv.Size}
	blk, err := sv.WriteEnvelope(ctx, nil, e, [][32]byte{recipient.BoxPublic()}, []string{recipient.ID()}, 1)
	if err != nil {
		f.Fatal(err)
	}
	sig, _ := sender.SigningKey().Sign(sigInput(recipient.ID(), blk.Cid()))
	good, _ := cbor.Marshal(message{From: sender.ID(), To: recipient.ID(), Env: blk.RawData(), Sig: sig})
	f.Add(good)
	f.Add([]byte{0xa0})
	in := &Inbox{cfg: InboxConfig{Vault: vault.New(recipient, mem())}, self: recipient.ID()}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := in.open(data)
		if err != nil {
			return
		}
		var m message
		if cbor.Unmarshal(data, &m) != nil || m.From != env.From {
			t.Fatalf("a message passed whose signer is not the envelope's sender: %q", env.From)
		}
	})
}
