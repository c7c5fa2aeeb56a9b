package vault

import (
	"bytes"
	"context"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// FuzzOpenEnvelope feeds any bytes to the readers of envelopes (from
// inbox messages: the network) and of public index entries (from the
// account's roots): errors are fine, panics are not, and what opens
// names a sender that parses.
func FuzzOpenEnvelope(f *testing.F) {
	ctx := context.Background()
	sender, err := AccountFromSecret(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		f.Fatal(err)
	}
	recipient, err := AccountFromSecret(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		f.Fatal(err)
	}
	mem := newMem()
	v := New(sender, mem)
	fv, err := v.WriteFile(ctx, bytes.NewReader([]byte("for you")), FileInput{Name: "a.txt", Mode: 0o644})
	if err != nil {
		f.Fatal(err)
	}
	e := Entry{Name: "a.txt", Kind: KindFile, CID: fv.CID, Key: fv.Key, Size: fv.Size}
	blk, err := v.WriteEnvelope(ctx, nil, e, [][32]byte{recipient.BoxPublic()}, []string{recipient.ID()}, 1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blk.RawData())
	pc, err := v.WritePublished(ctx, Published{Name: "a.txt", CID: fv.CID, Tsize: 10, Size: 7, Time: 1})
	if err != nil {
		f.Fatal(err)
	}
	pb, _ := mem.Get(ctx, pc)
	f.Add(pb)
	f.Add([]byte{0xa0})
	rv := New(recipient, newMem())
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := cid.V1Builder{Codec: cid.DagCBOR, MhType: 0x12}.Sum(data)
		if err != nil {
			return
		}
		if env, err := rv.OpenEnvelope(c, data); err == nil {
			if _, err := ParseAccountID(env.From); err != nil {
				t.Fatalf("an envelope opened with a sender that does not parse: %q", env.From)
			}
		}
		bs := newMem()
		b, _ := blocks.NewBlockWithCid(data, c)
		bs.Put(ctx, []blocks.Block{b})
		vv := New(sender, bs)
		vv.EnvelopeOwner(ctx, c)
		if p, err := vv.ReadPublished(ctx, c); err == nil && p.Name == "" {
			t.Fatal("a public index entry opened with no name")
		}
	})
}
