package donor

import (
	"bytes"
	"testing"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// FuzzParseHeld: whatever parses re-encodes to what parses the same.
func FuzzParseHeld(f *testing.F) {
	mh, _ := multihash.Sum([]byte("x"), multihash.SHA2_256, -1)
	c := cid.NewCidV1(cid.DagCBOR, mh)
	b, _ := encodeHeld(&held{Record: []byte{1, 2}, Seq: 3, Root: c, Head: c, Kept: []kept{{Snap: c, Tree: c, At: time.Unix(5, 0).UTC()}}, Bytes: 9, Cut: "quota"})
	f.Add(b)
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"kept":[{"snap":null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseHeld(data)
		if err != nil {
			return
		}
		e1, err := encodeHeld(h)
		if err != nil {
			t.Fatal(err)
		}
		h2, err := parseHeld(e1)
		if err != nil {
			t.Fatalf("re-encoded state does not parse: %v", err)
		}
		e2, _ := encodeHeld(h2)
		if !bytes.Equal(e1, e2) {
			t.Fatalf("not stable:\n%s\n%s", e1, e2)
		}
	})
}

// FuzzParseSettings: settings parse or fail, never panic, and round-trip.
func FuzzParseSettings(f *testing.F) {
	f.Add([]byte(`{"added":["12D3KooWGzBXh5bK6cmk7tWnJkqTqjfYhKx4PP6HsQD8WtFE3fHp"],"quota":5}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseSettings(data)
		if err != nil {
			return
		}
		b, err := jsonMarshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseSettings(b); err != nil {
			t.Fatalf("re-encoded settings do not parse: %v", err)
		}
	})
}
