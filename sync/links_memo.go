package sync

import (
	"sync"

	cid "github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/vault"
)

// maxMemoLinks bounds the links a linkMemo keeps, all blocks together
// (about 40 bytes each).
const maxMemoLinks = 8 << 10

// linkMemo remembers the links of blocks decoded lately. Taking in a
// change decodes the changed folders' new nodes, and the next change
// compares its nodes with those (they are then this device's): without
// the memo every folder node on the way was decoded twice per change, a
// cost that grows with the folder (a leaf holds up to 1000 entries).
// Blocks are content-addressed, so a CID's links never change.
type linkMemo struct {
	mu    sync.Mutex
	m     map[cid.Cid][]cid.Cid
	order []cid.Cid
	n     int // links held
}

// links returns vault.Links of the block c with data, from the memo when
// it was decoded before.
func (lm *linkMemo) links(c cid.Cid, data []byte) ([]cid.Cid, error) {
	if ls, ok := lm.get(c); ok {
		return ls, nil
	}
	ls, err := vault.Links(c, data)
	if err != nil {
		return nil, err
	}
	lm.put(c, ls)
	return ls, nil
}

func (lm *linkMemo) get(c cid.Cid) ([]cid.Cid, bool) {
	if lm == nil {
		return nil, false
	}
	lm.mu.Lock()
	defer lm.mu.Unlock()
	ls, ok := lm.m[c]
	return ls, ok
}

func (lm *linkMemo) put(c cid.Cid, ls []cid.Cid) {
	if lm == nil || len(ls) == 0 || len(ls) > maxMemoLinks/4 {
		return
	}
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if lm.m == nil {
		lm.m = map[cid.Cid][]cid.Cid{}
	}
	if _, ok := lm.m[c]; ok {
		return
	}
	lm.m[c] = ls
	lm.order = append(lm.order, c)
	lm.n += len(ls)
	for lm.n > maxMemoLinks && len(lm.order) > 0 {
		old := lm.order[0]
		lm.order = lm.order[1:]
		lm.n -= len(lm.m[old])
		delete(lm.m, old)
	}
	if cap(lm.order) > 4*len(lm.order)+64 {
		lm.order = append([]cid.Cid(nil), lm.order...)
	}
}
