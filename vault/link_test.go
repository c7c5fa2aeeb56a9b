package vault

import (
	"bytes"
	"testing"

	"github.com/fxamacker/cbor/v2"
	cid "github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// genericLink encodes a link as the CBOR encoder does, for comparison
// with Link's hand-written codec.
func genericLink(t testing.TB, c cid.Cid) []byte {
	b, err := encMode.Marshal(cbor.Tag{Number: linkTag, Content: append([]byte{0}, c.Bytes()...)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLinkCodec: links encode byte for byte as the generic encoder
// writes them (CIDs of several lengths, so the byte string's length takes
// one and two bytes), decode back, and refuse what the strict generic
// path refuses: another tag, a length not in its shortest form, trailing
// or missing bytes.
func TestLinkCodec(t *testing.T) {
	for _, n := range []int{1, 16, 20, 32, 64, 200, 300} {
		data := bytes.Repeat([]byte{byte(n)}, n)
		mh, err := multihash.Sum(data, multihash.IDENTITY, -1)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []cid.Cid{cid.NewCidV1(cid.DagCBOR, mh), cid.NewCidV1(cid.Raw, mh)} {
			got, err := Link{c}.MarshalCBOR()
			if err != nil {
				t.Fatal(err)
			}
			if want := genericLink(t, c); !bytes.Equal(got, want) {
				t.Fatalf("link of a %d-byte CID encodes to %x, the encoder writes %x", len(c.Bytes()), got, want)
			}
			var back Link
			if err := back.UnmarshalCBOR(got); err != nil || !back.Equals(c) {
				t.Fatalf("link %x decodes to %v, %v", got, back.Cid, err)
			}
			if err := back.UnmarshalCBOR(append(got, 0)); err == nil {
				t.Fatal("a link with a trailing byte decoded")
			}
			if err := back.UnmarshalCBOR(got[:len(got)-1]); err == nil {
				t.Fatal("a truncated link decoded")
			}
		}
	}
	c := cid.NewCidV1(cid.Raw, mustSum(t, []byte("x")))
	good := genericLink(t, c)
	body := append([]byte{0}, c.Bytes()...)
	bad := map[string][]byte{
		"tag 43":             append([]byte{0xd8, 43}, good[2:]...),
		"tag in two bytes":   append([]byte{0xd9, 0, 42}, good[2:]...),
		"long length":        append([]byte{0xd8, 42, 0x59, 0, byte(len(body))}, body...),
		"text string":        append([]byte{0xd8, 42, 0x60 | byte(len(body))}, body...),
		"no zero prefix":     append([]byte{0xd8, 42, 0x40 | byte(len(body)-1)}, body[1:]...),
		"indefinite length":  append(append([]byte{0xd8, 42, 0x5f, 0x40 | byte(len(body))}, body...), 0xff),
		"trailing after CID": append(append([]byte{0xd8, 42, 0x40 | byte(len(body)+1)}, body...), 7),
	}
	for name, b := range bad {
		var l Link
		if err := l.UnmarshalCBOR(b); err == nil {
			t.Errorf("%s: decoded %x", name, b)
		}
	}
}

func mustSum(t testing.TB, data []byte) multihash.Multihash {
	mh, err := multihash.Sum(data, multihash.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return mh
}
