package vault

import (
	"sync"

	"github.com/ipfs/go-cid"
)

// maxCachedEntries bounds the entries (and shard links) a dirCache
// keeps, all nodes together: about 150 bytes each with its name.
const maxCachedEntries = 4 << 10

// dirCache keeps folder nodes opened lately, as opened, so that reading
// a path again (every API call, WebDAV request and web UI page starts at
// the head's top folder) does not decode and decrypt every folder on the
// way again: a leaf holds up to 1000 entries, and opening one cost ~1 ms.
// A node is kept under its CID, its key and the shard slots that lead to
// it, the three that decide what opening it gives and whether it is
// valid there; only nodes that opened and checked are kept. Nodes are
// content-addressed, so what a key holds never changes.
type dirCache struct {
	mu    sync.Mutex
	m     map[string]*openedDir
	order []string
	n     int
}

// openedDir is a folder node as opened: a leaf's entries in name order,
// or a shard's slots and their nodes.
type openedDir struct {
	count   int
	entries []Entry
	slots   []int
	links   []cid.Cid
}

func (o *openedDir) size() int { return len(o.entries) + len(o.slots) + 1 }

func dirCacheKey(c cid.Cid, key *[32]byte, prefix []byte) string {
	return c.KeyString() + string(key[:]) + string(prefix)
}

func (dc *dirCache) get(k string) *openedDir {
	if dc == nil {
		return nil
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return dc.m[k]
}

func (dc *dirCache) put(k string, o *openedDir) {
	if dc == nil || o.size() > maxCachedEntries/4 {
		return
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if dc.m == nil {
		dc.m = map[string]*openedDir{}
	}
	if _, ok := dc.m[k]; ok {
		return
	}
	dc.m[k] = o
	dc.order = append(dc.order, k)
	dc.n += o.size()
	for dc.n > maxCachedEntries && len(dc.order) > 0 {
		old := dc.order[0]
		dc.order = dc.order[1:]
		dc.n -= dc.m[old].size()
		delete(dc.m, old)
	}
	if cap(dc.order) > 4*len(dc.order)+64 {
		dc.order = append([]string(nil), dc.order...)
	}
}
