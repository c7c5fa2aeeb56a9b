package vault

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// plainDirNode is dirNode without its codec: the generic path.
type plainDirNode dirNode

func genericNode(data []byte) (dirNode, error) {
	var p plainDirNode
	if err := unmarshal(data, &p); err != nil {
		return dirNode{}, err
	}
	return dirNode(p), nil
}

// sameNode compares nodes, an empty list and none alike.
func sameNode(a, b dirNode) bool {
	norm := func(n dirNode) dirNode {
		if len(n.Links) == 0 {
			n.Links = nil
		}
		if len(n.Body) == 0 {
			n.Body = nil
		}
		return n
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func randomNode(r *rand.Rand) dirNode {
	n := dirNode{Type: []string{"dir", "file", "é", ""}[r.IntN(4)], V: []int{1, 0, -1, 24, 1 << 40}[r.IntN(5)]}
	body := make([]byte, []int{0, 1, 23, 24, 300, 70000}[r.IntN(6)])
	for i := range body {
		body[i] = byte(r.Uint32())
	}
	n.Body = body
	for i := range r.IntN(6) {
		h, _ := mh.Sum(fmt.Appendf(nil, "%d %d", r.Int(), i), mh.SHA2_256, -1)
		codec := []uint64{cid.DagCBOR, cid.Raw}[r.IntN(2)]
		c := cid.NewCidV1(codec, h)
		if r.IntN(8) == 0 {
			c = cid.NewCidV0(h)
		}
		n.Links = append(n.Links, Link{c})
	}
	return n
}

func checkNodeAgainstGeneric(t *testing.T, data []byte) {
	t.Helper()
	var hand dirNode
	herr := unmarshal(data, &hand)
	gen, gerr := genericNode(data)
	if (herr == nil) != (gerr == nil) {
		t.Fatalf("%x: codec says %v, generic path %v", data, herr, gerr)
	}
	if herr == nil && !sameNode(hand, gen) {
		t.Fatalf("%x: codec reads %+v, generic path %+v", data, hand, gen)
	}
}

// TestDirNodeCodec: folder nodes encode by hand to the generic encoder's
// bytes and decode back; every single-byte change and truncation of some
// of them is accepted by the codec exactly when the generic strict path
// accepts it, and read the same.
func TestDirNodeCodec(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		n := randomNode(r)
		got, err := n.MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		want, err := encMode.Marshal(plainDirNode(n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("node %d:\nby hand %x\ngeneric %x", i, got, want)
		}
		var back dirNode
		if err := back.UnmarshalCBOR(got); err != nil || !sameNode(back, n) {
			t.Fatalf("node %d decodes to %+v, %v", i, back, err)
		}
		if i%50 == 0 && len(got) < 2000 {
			for j := range got {
				for _, mut := range [][]byte{flip(got, j), got[:j]} {
					checkNodeAgainstGeneric(t, mut)
				}
			}
		}
	}
}

// FuzzDirNode: for any bytes, the codec accepts exactly what the generic
// strict path accepts, and reads the same node from them.
func FuzzDirNode(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		b, _ := randomNode(r).MarshalCBOR()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkNodeAgainstGeneric(t, data) })
}
