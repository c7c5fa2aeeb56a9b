package announce

import (
	"bytes"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

func testBlocks(t testing.TB) []blocks.Block {
	var out []blocks.Block
	for i, s := range []string{"a", "", "a longer block"} {
		codec := uint64(cid.Raw)
		if i == 1 {
			codec = cid.DagCBOR
		}
		c, err := cid.Prefix{Version: 1, Codec: codec, MhType: multihash.SHA2_256, MhLength: -1}.Sum([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := blocks.NewBlockWithCid([]byte(s), c)
		out = append(out, b)
	}
	return out
}

func TestBlockAnnouncementRoundTrip(t *testing.T) {
	bs := testBlocks(t)
	got, err := Decode(Encode(bs))
	if err != nil || len(got) != len(bs) {
		t.Fatalf("decoded %d blocks, %v", len(got), err)
	}
	for i := range bs {
		if !got[i].Cid().Equals(bs[i].Cid()) || !bytes.Equal(got[i].RawData(), bs[i].RawData()) {
			t.Fatalf("block %d differs", i)
		}
	}
	msg := Encode(bs)
	msg[len(msg)-1] ^= 1
	if _, err := Decode(msg); err == nil {
		t.Fatal("a block that does not match its CID was accepted")
	}
	if _, err := Decode(msg[:len(msg)-3]); err == nil {
		t.Fatal("a truncated announcement was accepted")
	}
}

// FuzzDecodeBlocks: announcements come from any peer on the topic.
func FuzzDecodeBlocks(f *testing.F) {
	f.Add(Encode(testBlocks(f)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		bs, err := Decode(data)
		if err != nil {
			return
		}
		for _, b := range bs {
			if got, _ := b.Cid().Prefix().Sum(b.RawData()); !got.Equals(b.Cid()) {
				t.Fatal("accepted a block that does not match its CID")
			}
		}
	})
}
