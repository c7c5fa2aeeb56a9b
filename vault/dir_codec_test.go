package vault

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// plainDirBody is dirBody without its codec: the generic path.
type plainDirBody dirBody

// genericDecode decodes data as unmarshal does for any body, strictly
// (decode, then re-encode and compare), through the generic codec.
func genericDecode(data []byte) (dirBody, error) {
	var p plainDirBody
	if err := unmarshal(data, &p); err != nil {
		return dirBody{}, err
	}
	return dirBody(p), nil
}

// sameBody compares bodies, an empty list and none alike.
func sameBody(a, b dirBody) bool {
	norm := func(d dirBody) dirBody {
		if len(d.Slots) == 0 {
			d.Slots = nil
		}
		if len(d.Entries) == 0 {
			d.Entries = nil
		}
		for i := range d.Entries {
			if len(d.Entries[i].Key) == 0 {
				d.Entries[i].Key = nil
			}
		}
		return d
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func randomBody(r *rand.Rand) dirBody {
	ints := []int64{0, 1, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxInt64, -1, -24, -25, -256, -257, math.MinInt64}
	pick := func() int64 {
		if r.IntN(2) == 0 {
			return ints[r.IntN(len(ints))]
		}
		return r.Int64() - r.Int64()
	}
	b := dirBody{Depth: int(pick()), Count: r.Uint64() >> r.IntN(64)}
	for range r.IntN(4) {
		b.Slots = append(b.Slots, int(pick()))
	}
	names := []string{"a", "é", "日本語", string(make([]byte, 30)), string(bytes.Repeat([]byte("n"), 300))}
	for range r.IntN(5) {
		key := make([]byte, r.IntN(40))
		for i := range key {
			key[i] = byte(r.Uint32())
		}
		b.Entries = append(b.Entries, dirEntry{
			Name: names[r.IntN(len(names))], Kind: []string{"file", "dir", ""}[r.IntN(3)], Key: key,
			Size: r.Uint64() >> r.IntN(64), Mtime: pick(), Mode: r.Uint32() >> r.IntN(32),
		})
	}
	return b
}

// TestDirBodyCodec: folder bodies encode by hand to the generic encoder's
// bytes and decode back, for random bodies with integers at every
// boundary of CBOR's head sizes; and bytes the generic strict path
// refuses, the codec refuses.
func TestDirBodyCodec(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		b := randomBody(r)
		got, err := b.MarshalCBOR()
		if err != nil {
			t.Fatal(err)
		}
		want, err := encMode.Marshal(plainDirBody(b))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("body %d %+v:\nby hand %x\ngeneric %x", i, b, got, want)
		}
		var back dirBody
		if err := back.UnmarshalCBOR(got); err != nil || !sameBody(back, b) {
			t.Fatalf("body %d decodes to %+v, %v; want %+v", i, back, err, b)
		}
		// Every single-byte change and every truncation: the codec agrees
		// with the generic path on accepting it, and on what it holds.
		if i%30 == 0 {
			for j := range got {
				for _, mut := range [][]byte{flip(got, j), got[:j]} {
					checkAgainstGeneric(t, mut)
				}
			}
		}
	}
}

func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i] ^= 1 << (i % 8)
	return out
}

func checkAgainstGeneric(t *testing.T, data []byte) {
	t.Helper()
	var hand dirBody
	herr := unmarshal(data, &hand) // through the codec alone, as load does
	gen, gerr := genericDecode(data)
	if (herr == nil) != (gerr == nil) {
		t.Fatalf("%x: codec says %v, generic path %v", data, herr, gerr)
	}
	if herr == nil && !sameBody(hand, gen) {
		t.Fatalf("%x: codec reads %+v, generic path %+v", data, hand, gen)
	}
}

// FuzzDirBody: for any bytes, the codec accepts exactly what the generic
// strict path accepts, and reads the same body from them.
func FuzzDirBody(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		b, _ := randomBody(r).MarshalCBOR()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkAgainstGeneric(t, data) })
}
