package blockstore_test

import (
	"bytes"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	"github.com/ipld/go-ipld-prime/datamodel"
	"github.com/ipld/go-ipld-prime/fluent/qp"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/multiformats/go-multihash"

	"github.com/peer-cloud/peer/blockstore"
)

func cborBlock(t testing.TB, links ...cid.Cid) blocks.Block {
	t.Helper()
	n, err := qp.BuildMap(basicnode.Prototype.Any, int64(len(links)), func(ma datamodel.MapAssembler) {
		for i, l := range links {
			qp.MapEntry(ma, string(rune('a'+i)), qp.Link(cidlink.Link{Cid: l}))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := dagcbor.Encode(n, &buf); err != nil {
		t.Fatal(err)
	}
	c, err := cid.Prefix{Version: 1, Codec: cid.DagCBOR, MhType: multihash.SHA2_256, MhLength: -1}.Sum(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	b, err := blocks.NewBlockWithCid(buf.Bytes(), c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLinks(t *testing.T) {
	raw := merkledag.NewRawNode([]byte("leaf"))
	pb := merkledag.NodeWithData([]byte("x"))
	if err := pb.AddNodeLink("leaf", raw); err != nil {
		t.Fatal(err)
	}
	cb := cborBlock(t, raw.Cid(), pb.Cid())
	for _, tc := range []struct {
		name string
		b    blocks.Block
		want []cid.Cid
	}{
		{"raw", raw, nil},
		{"dag-pb", pb, []cid.Cid{raw.Cid()}},
		{"dag-cbor", cb, []cid.Cid{raw.Cid(), pb.Cid()}},
	} {
		got, err := blockstore.Links(tc.b)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %d links; want %d", tc.name, len(got), len(tc.want))
		}
		for i := range got {
			if !got[i].Equals(tc.want[i]) {
				t.Fatalf("%s: link %d is %s; want %s", tc.name, i, got[i], tc.want[i])
			}
		}
	}
	bad, _ := blocks.NewBlockWithCid([]byte{0xff, 0x00}, cid.NewCidV1(cid.DagCBOR, cb.Cid().Hash()))
	if _, err := blockstore.Links(bad); err == nil {
		t.Fatal("Links accepted garbage as dag-cbor")
	}
}

// FuzzLinks feeds arbitrary bytes to Links under each codec: it must return
// links or an error, never panic. Blocks come from peers and from disk.
func FuzzLinks(f *testing.F) {
	raw := merkledag.NewRawNode([]byte("leaf"))
	pb := merkledag.NodeWithData([]byte("x"))
	pb.AddNodeLink("leaf", raw)
	f.Add(uint8(0), pb.RawData())
	f.Add(uint8(1), cborBlock(f, raw.Cid()).RawData())
	f.Add(uint8(2), []byte("anything"))
	codecs := []uint64{cid.DagProtobuf, cid.DagCBOR, cid.Raw, cid.DagJSON}
	f.Fuzz(func(t *testing.T, codec uint8, data []byte) {
		c := cid.NewCidV1(codecs[int(codec)%len(codecs)], raw.Cid().Hash())
		b, err := blocks.NewBlockWithCid(data, c)
		if err != nil {
			t.Skip()
		}
		blockstore.Links(b)
	})
}
