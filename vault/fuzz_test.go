package vault

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// vectorBlocks returns the node blocks of the test vectors (good and bad),
// the fuzzers' seeds.
func vectorBlocks(f *testing.F) [][]byte {
	vs := loadVectors(f)
	var out [][]byte
	for _, o := range vs.Scenario.Objects {
		if o.Block != "" {
			d, _ := hex.DecodeString(o.Block)
			out = append(out, d)
		}
	}
	for _, o := range vs.Bad {
		d, _ := hex.DecodeString(o.Block)
		out = append(out, d)
	}
	return out
}

// FuzzOpenNode feeds any bytes, stored as a DAG-CBOR block, to every
// reader of nodes: errors are fine, panics and hangs are not. Account
// roots come from the network, and recipients' stanzas are in clear, so
// random bytes reach those readers too.
func FuzzOpenNode(f *testing.F) {
	for _, b := range vectorBlocks(f) {
		f.Add(b)
	}
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i + 1)
	}
	acct, err := AccountFromSecret(secret)
	if err != nil {
		f.Fatal(err)
	}
	friend, err := AccountFromSecret(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		f.Fatal(err)
	}
	head, _ := cborPrefix.Sum([]byte("head"))
	for _, r := range []Root{{Box: acct.boxPub}, {Devices: [][]byte{{0xa0}}, Box: acct.boxPub, Head: head, Public: head, Shares: []cid.Cid{head}}} {
		mem := newMem()
		c, err := New(acct, mem).WriteRoot(context.Background(), r)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := mem.Get(context.Background(), c)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		blk, err := newBlock(cborPrefix, data)
		if err != nil {
			return
		}
		mem := newMem()
		mem.Put(ctx, []blocks.Block{blk})
		v := New(acct, mem)
		if fv, err := v.OpenFile(ctx, blk.Cid(), "fuzz"); err == nil {
			v.ReadRange(ctx, fv, io.Discard, 0, -1)
		}
		v.OpenSnapshot(ctx, blk.Cid())
		d := v.storedDir(blk.Cid(), [32]byte{}, "fuzz")
		if d.load(ctx) == nil {
			d.list(ctx)
		}
		ParseDeviceCert(data)
		if k, err := BlockKind(blk.Cid(), data); err == nil && kindNames[k] == "" {
			t.Fatalf("a dag-cbor block of kind %q", k)
		}
		if r, err := ReadRoot(ctx, mem, blk.Cid()); err == nil {
			again, err := v.WriteRoot(ctx, *r)
			if err != nil || !again.Equals(blk.Cid()) {
				t.Fatalf("an account root read back as %s (%v), not %s", again, err, blk.Cid())
			}
		}
		if fv, err := New(friend, mem).OpenFileShared(ctx, blk.Cid(), "fuzz"); err == nil {
			New(friend, mem).ReadRange(ctx, fv, io.Discard, 0, -1)
		}
	})
}

// FuzzBodies seals any plaintext as the body of each kind of node, with
// some links, so the decoders behind the seal (which random bytes never
// reach) see it.
func FuzzBodies(f *testing.F) {
	f.Add(uint8(0), uint8(1), []byte{0xa0})
	f.Add(uint8(1), uint8(0), []byte{0xa4, 0x65, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00})
	part, err := marshal(partBody{Parts: []partEntry{{Size: 1 << 10, Key: make([]byte, 32)}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(3), uint8(1), part)
	ctx := context.Background()
	acct, err := AccountFromSecret(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kind, nlinks uint8, plain []byte) {
		mem := newMem()
		v := New(acct, mem)
		var key [32]byte
		var links []Link
		for i := range int(nlinks % 8) {
			c, _ := rawPrefix.Sum([]byte(fmt.Sprint(i)))
			if kind%2 == 1 && kind%4 != 3 {
				c, _ = cborPrefix.Sum([]byte(fmt.Sprint(i)))
			}
			links = append(links, Link{c})
		}
		seal := func(label string, n bodiless, set func([]byte) bodiless) blocks.Block {
			ad, err := nodeAD(label, n)
			if err != nil {
				t.Fatal(err)
			}
			sealed, err := sealBody(&key, ad, plain)
			if err != nil {
				t.Fatal(err)
			}
			b, err := marshal(set(sealed))
			if err != nil {
				t.Fatal(err)
			}
			blk, _ := newBlock(cborPrefix, b)
			mem.Put(ctx, []blocks.Block{blk})
			return blk
		}
		switch kind % 4 {
		case 0:
			kid := make([]byte, 16)
			key = acct.fileKey(kid)
			n := fileNode{Type: "file", V: 1, Kid: kid, Links: links}
			blk := seal(adFile, n, func(b []byte) bodiless { n.Body = b; return n })
			if fv, err := v.OpenFile(ctx, blk.Cid(), "fuzz"); err == nil {
				v.ReadRange(ctx, fv, io.Discard, 0, -1)
			}
		case 1:
			n := dirNode{Type: "dir", V: 1, Links: links}
			blk := seal(adDir, n, func(b []byte) bodiless { n.Body = b; return n })
			d := v.storedDir(blk.Cid(), key, "fuzz")
			if d.load(ctx) == nil {
				d.list(ctx)
			}
		case 2:
			key = acct.index
			tree, _ := cborPrefix.Sum([]byte("tree"))
			n := snapNode{Type: "snap", V: 1, Tree: Link{tree}, Parents: links}
			blk := seal(adSnap, n, func(b []byte) bodiless { n.Body = b; return n })
			v.OpenSnapshot(ctx, blk.Cid())
		case 3:
			// A part node under a file node that holds one part of any
			// size: the fuzzed body is the part's.
			// The file node agrees with the part body where it can, so
			// that reads get past the checks to the chunks.
			size := uint64(len(plain))
			h := newContentHasher()
			var pb partBody
			if unmarshal(plain, &pb) == nil {
				size = 0
				for _, p := range pb.Parts {
					size += p.Size
					h.add(p.Key, p.Size)
				}
			}
			hash := h.sum()
			kid := acct.fileID(hash)
			key = acct.fileKey(kid)
			pn := partNode{Type: "part", V: 1, Links: links}
			part := seal(adPart, pn, func(b []byte) bodiless { pn.Body = b; return pn })
			fb, err := marshal(fileBody{Hash: hash[:], Depth: 1, Size: size, Parts: []partEntry{{Size: size}}})
			if err != nil {
				t.Fatal(err)
			}
			plain = fb
			n := fileNode{Type: "file", V: 1, Kid: kid, Links: []Link{{part.Cid()}}}
			blk := seal(adFile, n, func(b []byte) bodiless { n.Body = b; return n })
			if fv, err := v.OpenFile(ctx, blk.Cid(), "fuzz"); err == nil {
				v.ReadRange(ctx, fv, io.Discard, 0, -1)
				v.ReadRange(ctx, fv, io.Discard, 1, 1)
				v.Revive(ctx, fv, "fuzz", cid.Undef)
			}
		}
	})
}

// FuzzPhrase checks that no input makes recovery panic.
func FuzzPhrase(f *testing.F) {
	a, _ := AccountFromSecret(bytes.Repeat([]byte{3}, 32))
	f.Add(a.Phrase())
	f.Add("abandon abandon")
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := AccountFromPhrase(s); err == nil && b.Phrase() == "" {
			t.Fatal("account without a phrase")
		}
	})
}

// FuzzParseAccountID checks that an account ID read from anywhere formats
// back to one that reads as the same account.
func FuzzParseAccountID(f *testing.F) {
	a, _ := AccountFromSecret(bytes.Repeat([]byte{3}, 32))
	f.Add(a.ID())
	f.Add(a.PeerID().String())
	f.Add("k51")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseAccountID(s)
		if err != nil {
			return
		}
		again, err := ParseAccountID(AccountID(id))
		if err != nil || again != id {
			t.Fatalf("%q read as %s, which formats as %q and reads back as %s (%v)", s, id, AccountID(id), again, err)
		}
	})
}
