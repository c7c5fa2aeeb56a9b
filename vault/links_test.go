package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/ipld/go-ipld-prime/traversal"
)

// keepBlocks keeps every block put, in order, beside storing it.
type keepBlocks struct {
	Blocks
	all []blocks.Block
}

func (k *keepBlocks) Put(ctx context.Context, bs []blocks.Block) error {
	k.all = append(k.all, bs...)
	return k.Blocks.Put(ctx, bs)
}

// genericLinks reads a block's links as any DAG-CBOR walker does.
func genericLinks(t *testing.T, b blocks.Block) []cid.Cid {
	t.Helper()
	if b.Cid().Prefix().Codec == cid.Raw {
		return nil
	}
	nb := basicnode.Prototype.Any.NewBuilder()
	if err := dagcbor.Decode(nb, bytes.NewReader(b.RawData())); err != nil {
		t.Fatal(err)
	}
	ls, err := traversal.SelectLinks(nb.Build())
	if err != nil {
		t.Fatal(err)
	}
	var out []cid.Cid
	for _, l := range ls {
		out = append(out, l.(cidlink.Link).Cid)
	}
	return out
}

// TestLinksAsGenericWalk: Links finds, in the same order, the links a
// generic DAG-CBOR walk finds, for every kind of block the vault writes:
// chunks, small and multi-part file versions with previous versions,
// leaf and sharded folders, snapshots with parents, and account roots.
func TestLinksAsGenericWalk(t *testing.T) {
	ctx := context.Background()
	kb := &keepBlocks{Blocks: newMem()}
	v := New(testAccount(t, 1), kb)
	v.fanout = 2 // parts below the file node
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 3*ChunkMax)
	io.ReadFull(rand.Reader, big)
	fv, err := v.WriteFile(ctx, bytes.NewReader(big), FileInput{Name: "big"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.PutFile(ctx, "/a/big", fv); err != nil {
		t.Fatal(err)
	}
	for i := range 1100 {
		putSmall(t, v, tr, fmt.Sprintf("/many/f%04d", i), fmt.Sprint(i))
	}
	s1, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	tr = s1.OpenTree(v)
	putSmall(t, v, tr, "/many/f0001", "again")
	s2, err := v.Commit(ctx, tr, s1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.WriteRoot(ctx, Root{Box: testAccount(t, 1).BoxPublic(), Head: s2.CID}); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, b := range kb.all {
		got, err := Links(b.Cid(), b.RawData())
		if err != nil {
			t.Fatalf("block %s: %v", b.Cid(), err)
		}
		if want := genericLinks(t, b); !slices.EqualFunc(got, want, cid.Cid.Equals) {
			t.Fatalf("block %s: Links found %v, a generic walk %v", b.Cid(), got, want)
		}
		k, _ := BlockKind(b.Cid(), b.RawData())
		kinds[k]++
	}
	for _, k := range []string{"raw", "file", "part", "dir", "snap", "root"} {
		if kinds[k] == 0 {
			t.Errorf("no %s block was written, so none was checked (%v)", k, kinds)
		}
	}
	bad := append([]byte(nil), kb.all[len(kb.all)-1].RawData()...)
	bad[len(bad)-1] ^= 1
	if _, err := Links(kb.all[len(kb.all)-1].Cid(), append(bad, 0)); err == nil {
		t.Error("a block with a trailing byte gave links")
	}
}
