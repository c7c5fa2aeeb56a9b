package sync

import (
	"fmt"
	"testing"

	cid "github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// TestLinkMemoBound: the memo forgets the oldest blocks once it holds
// more than maxMemoLinks links, keeps the newest, and keeps no block
// with too many links to be worth it.
func TestLinkMemoBound(t *testing.T) {
	mk := func(i int) cid.Cid {
		h, err := mh.Sum(fmt.Appendf(nil, "block %d", i), mh.SHA2_256, -1)
		if err != nil {
			t.Fatal(err)
		}
		return cid.NewCidV1(cid.DagCBOR, h)
	}
	var lm linkMemo
	links := make([]cid.Cid, 1000)
	for i := range links {
		links[i] = mk(-i - 1)
	}
	for i := range 100 {
		lm.put(mk(i), links)
		if lm.n > maxMemoLinks {
			t.Fatalf("after %d blocks the memo holds %d links (bound %d)", i+1, lm.n, maxMemoLinks)
		}
	}
	if _, ok := lm.get(mk(0)); ok {
		t.Fatal("the oldest block is still held")
	}
	if ls, ok := lm.get(mk(99)); !ok || len(ls) != 1000 {
		t.Fatal("the newest block is not held")
	}
	lm.put(mk(1000), make([]cid.Cid, maxMemoLinks/4+1))
	if _, ok := lm.get(mk(1000)); ok {
		t.Fatal("a block with more links than a quarter of the bound is held")
	}
}
