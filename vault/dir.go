package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"lukechampine.com/blake3"
)

// leafMax is the most entries a directory node holds before it becomes a
// shard of up to 256 nodes, chosen by the entries' keyed name hashes.
const leafMax = 1000

// maxShardDepth bounds shard nesting (one byte of the name hash per level).
const maxShardDepth = 31

// Kind says what an entry is.
type Kind string

// Entry kinds.
const (
	KindFile Kind = "file"
	KindDir  Kind = "dir"
)

// Entry is one name in a directory: a file (its newest version) or a
// directory.
type Entry struct {
	Name  string
	Kind  Kind
	CID   cid.Cid  // file version or directory node
	Key   [32]byte // file key or directory key
	Size  uint64   // file size; 0 for directories
	Mtime int64    // unix nanoseconds
	Mode  uint32
}

// dirNode is a directory node as stored (SPEC.md, "Directory").
type dirNode struct {
	Type  string `cbor:"type"`
	V     int    `cbor:"v"`
	Links []Link `cbor:"links"`
	Body  []byte `cbor:"body"`
}

type dirBody struct {
	Depth   int        `cbor:"depth"`
	Count   uint64     `cbor:"count"`
	Entries []dirEntry `cbor:"entries"`
	Slots   []int      `cbor:"slots"`
}

type dirEntry struct {
	Name  string `cbor:"name"`
	Kind  string `cbor:"kind"`
	Key   []byte `cbor:"key"`
	Size  uint64 `cbor:"size"`
	Mtime int64  `cbor:"mtime"`
	Mode  uint32 `cbor:"mode"`
}

// dir is a directory node in memory: a leaf of entries or a shard of
// child nodes (same key, one level deeper). Nodes load on first use and
// are rewritten on flush only when dirty.
type dir struct {
	v       *Vault
	key     [32]byte
	depth   int
	cid     cid.Cid // as stored; undefined until first flush
	what    string  // path, for errors
	prefix  []byte  // slots from the directory's top node to here
	loaded  bool
	dirty   bool
	count   int
	entries map[string]*entry // leaf; with base, only the names got so far
	slots   map[int]*dir      // shard
	// base is a leaf's entries as opened, sorted by name and shared with
	// the folder cache (never written): a leaf loaded from the cache is
	// read by binary search, and its map is made only when it is changed
	// or listed (own). Building a 1 000-entry map for every API call was
	// most of what reading a file in a big folder cost.
	base []Entry
	// baseSlots and baseLinks are a shard's occupied slots and their
	// nodes as opened, the same way: a child is made when first used.
	baseSlots []int
	baseLinks []cid.Cid
}

type entry struct {
	Entry
	sub *dir // loaded top node of a directory entry
}

// newDir is a new, empty directory.
func (v *Vault) newDir(key [32]byte, what string) *dir {
	return &dir{v: v, key: key, what: what, loaded: true, dirty: true, entries: map[string]*entry{}}
}

// storedDir is a directory as stored, loaded on first use.
func (v *Vault) storedDir(c cid.Cid, key [32]byte, what string) *dir {
	return &dir{v: v, key: key, cid: c, what: what}
}

func (d *dir) isShard() bool { return d.slots != nil }

// dirSealKey is the key a folder node is sealed under: the newest
// epoch's for the folder key (SPEC.md, "Key epochs"), or the folder key
// itself in a shared copy, which its recipients open with that key.
func (v *Vault) dirSealKey(folder *[32]byte) [32]byte {
	if v.rawDirs {
		return *folder
	}
	return v.acct.cur().dirKey(folder)
}

// dirKeys are the keys a folder node may be sealed under, newest epoch
// first; the folder key itself (epoch 0, and shared copies) is last.
func (v *Vault) dirKeys(folder *[32]byte) [][32]byte {
	ring := v.acct.epochs()
	out := make([][32]byte, len(ring))
	for i, ep := range ring {
		out[i] = ep.dirKey(folder)
	}
	return out
}

// hash is the keyed hash of name that places it in shards.
func (d *dir) hash(name string) (sum [32]byte) {
	h := blake3.New(32, d.key[:])
	h.Write([]byte(name))
	h.Sum(sum[:0])
	return sum
}

// slot is the shard slot of name at this node's depth.
func (d *dir) slot(name string) int { return int(d.hash(name)[d.depth]) }

// child makes the node for slot s below d.
func (d *dir) child(s int, c cid.Cid) *dir {
	n := &dir{v: d.v, key: d.key, depth: d.depth + 1, cid: c, what: d.what, prefix: append(append([]byte(nil), d.prefix...), byte(s))}
	if !c.Defined() {
		n.loaded, n.dirty, n.entries = true, true, map[string]*entry{}
	}
	return n
}

// load reads and opens the node.
func (d *dir) load(ctx context.Context) error {
	if d.loaded {
		return nil
	}
	ck := dirCacheKey(d.cid, &d.key, d.prefix)
	if o := d.v.dirs.get(ck); o != nil && d.v.holds(ctx, d.cid) {
		d.fromOpened(o)
		return nil
	}
	var n dirNode
	if err := decodeNode(ctx, d.v.blocks, d.cid, "directory "+d.what, "dir", &n); err != nil {
		return err
	}
	damaged := func(err error) error { return &DamagedError{CID: d.cid, What: "directory " + d.what, Err: err} }
	var b dirBody
	if err := openNodeAny(n, adDir, d.v.dirKeys(&d.key), &b); err != nil {
		return damaged(err)
	}
	if b.Depth != d.depth {
		return damaged(fmt.Errorf("shard depth %d, want %d", b.Depth, d.depth))
	}
	switch {
	case len(b.Slots) == 0:
		if len(b.Entries) != len(n.Links) || uint64(len(b.Entries)) != b.Count || len(b.Entries) > leafMax {
			return damaged(fmt.Errorf("%d entries, %d links, count %d", len(b.Entries), len(n.Links), b.Count))
		}
		base := make([]Entry, len(b.Entries))
		for i, e := range b.Entries {
			if i > 0 && b.Entries[i-1].Name >= e.Name {
				return damaged(errors.New("entries not sorted by name"))
			}
			if err := checkName(e.Name); err != nil {
				return damaged(err)
			}
			if (e.Kind != string(KindFile) && e.Kind != string(KindDir)) || len(e.Key) != 32 {
				return damaged(fmt.Errorf("entry %q: kind %q, key of %d bytes", e.Name, e.Kind, len(e.Key)))
			}
			if !d.inPlace(e.Name) {
				return damaged(fmt.Errorf("entry %q is in the wrong shard", e.Name))
			}
			base[i] = Entry{Name: e.Name, Kind: Kind(e.Kind), CID: n.Links[i].Cid, Size: e.Size, Mtime: e.Mtime, Mode: e.Mode}
			copy(base[i].Key[:], e.Key)
		}
		d.entries, d.base = map[string]*entry{}, base
		d.count = len(b.Entries)
	default:
		if len(b.Entries) != 0 || len(b.Slots) != len(n.Links) || b.Count <= leafMax || d.depth >= maxShardDepth {
			return damaged(fmt.Errorf("shard with %d slots, %d links, %d entries, count %d", len(b.Slots), len(n.Links), len(b.Entries), b.Count))
		}
		links := make([]cid.Cid, len(b.Slots))
		for i, s := range b.Slots {
			if s < 0 || s > 255 || (i > 0 && b.Slots[i-1] >= s) {
				return damaged(errors.New("shard slots out of order"))
			}
			links[i] = n.Links[i].Cid
		}
		d.slots, d.baseSlots, d.baseLinks = map[int]*dir{}, b.Slots, links
		d.count = int(b.Count)
	}
	d.loaded = true
	d.v.dirs.put(ck, d.opened())
	return nil
}

// holds reports whether the vault's store still holds block c, when it
// can say so cheaply (true when it cannot): a node kept in the cache but
// lost from the disk must be read, so that the loss shows (and a merge
// fetches it again) instead of going unseen.
func (v *Vault) holds(ctx context.Context, c cid.Cid) bool { return Holds(ctx, v.blocks, c) }

// opened is the node as loaded, for the cache.
func (d *dir) opened() *openedDir {
	o := &openedDir{count: d.count}
	if d.isShard() {
		o.slots, o.links = d.baseSlots, d.baseLinks
		return o
	}
	// A leaf is opened from its block or the cache, so its entries are
	// all in base (sorted, shared: the cache never writes them).
	o.entries = d.base
	return o
}

// fromOpened loads the node from the cache.
func (d *dir) fromOpened(o *openedDir) {
	d.count = o.count
	if o.slots != nil {
		d.slots, d.baseSlots, d.baseLinks = map[int]*dir{}, o.slots, o.links
	} else {
		d.entries, d.base = map[string]*entry{}, o.entries
	}
	d.loaded = true
}

// own makes a leaf's map hold all its entries, or a shard's all its
// children, before the node is changed as a whole, listed or written.
// What was got so far keeps its place (a caller may hold an entry and
// its loaded folder, or a child with changes).
func (d *dir) own() {
	for _, e := range d.base {
		if _, ok := d.entries[e.Name]; !ok {
			d.entries[e.Name] = &entry{Entry: e}
		}
	}
	for i, s := range d.baseSlots {
		if _, ok := d.slots[s]; !ok {
			d.slots[s] = d.child(s, d.baseLinks[i])
		}
	}
	d.base, d.baseSlots, d.baseLinks = nil, nil, nil
}

// childAt is a shard's node for slot s, nil when the slot is empty.
func (d *dir) childAt(s int) *dir {
	if c, ok := d.slots[s]; ok || d.baseSlots == nil {
		return c
	}
	i, ok := slices.BinarySearch(d.baseSlots, s)
	if !ok {
		return nil
	}
	c := d.child(s, d.baseLinks[i])
	d.slots[s] = c
	return c
}

// inPlace reports whether name belongs under this node: its keyed hash
// starts with the slots that lead here.
func (d *dir) inPlace(name string) bool {
	if d.depth == 0 {
		return true
	}
	sum := d.hash(name)
	return string(sum[:d.depth]) == string(d.prefix)
}

// get finds name.
func (d *dir) get(ctx context.Context, name string) (*entry, error) {
	if err := d.load(ctx); err != nil {
		return nil, err
	}
	if !d.isShard() {
		if e, ok := d.entries[name]; ok || d.base == nil {
			return e, nil
		}
		i, ok := slices.BinarySearchFunc(d.base, name, func(e Entry, name string) int { return strings.Compare(e.Name, name) })
		if !ok {
			return nil, nil
		}
		e := &entry{Entry: d.base[i]}
		d.entries[name] = e
		return e, nil
	}
	c := d.childAt(d.slot(name))
	if c == nil {
		return nil, nil
	}
	return c.get(ctx, name)
}

// put sets name to e (adding or replacing) and marks the way dirty.
func (d *dir) put(ctx context.Context, e *entry) (added bool, err error) {
	if err := d.load(ctx); err != nil {
		return false, err
	}
	d.dirty = true
	if !d.isShard() {
		d.own()
		_, had := d.entries[e.Name]
		if !had && d.count >= leafMax && d.depth >= maxShardDepth {
			// A leaf at the deepest level cannot split; readers refuse
			// one of more than leafMax entries. It takes 1001 names whose
			// keyed hashes agree in 31 bytes.
			return false, fmt.Errorf("failed to add %q to %s: %d names share the shard slots of depth %d", e.Name, d.what, d.count+1, d.depth)
		}
		d.entries[e.Name] = e
		if !had {
			d.count++
		}
		if d.count > leafMax && d.depth < maxShardDepth {
			if err := d.split(ctx); err != nil {
				return false, err
			}
		}
		return !had, nil
	}
	s := d.slot(e.Name)
	c := d.childAt(s)
	if c == nil {
		c = d.child(s, cid.Undef)
		d.slots[s] = c
	}
	added, err = c.put(ctx, e)
	if added {
		d.count++
	}
	return added, err
}

// split turns a full leaf into a shard.
func (d *dir) split(ctx context.Context) error {
	d.own()
	entries := d.entries
	d.entries = nil
	d.slots = map[int]*dir{}
	d.count = 0
	for _, e := range entries {
		if _, err := d.put(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes name, reporting whether it was there.
func (d *dir) remove(ctx context.Context, name string) (bool, error) {
	if err := d.load(ctx); err != nil {
		return false, err
	}
	if !d.isShard() {
		d.own()
		if _, ok := d.entries[name]; !ok {
			return false, nil
		}
		delete(d.entries, name)
		d.count--
		d.dirty = true
		return true, nil
	}
	s := d.slot(name)
	c := d.childAt(s)
	if c == nil {
		return false, nil
	}
	ok, err := c.remove(ctx, name)
	if err != nil || !ok {
		return ok, err
	}
	d.dirty = true
	d.count--
	if c.count == 0 {
		d.own() // else the slot would come back from baseSlots
		delete(d.slots, s)
	}
	if d.count <= leafMax {
		return true, d.collapse(ctx)
	}
	return true, nil
}

// collapse turns a shard that holds few enough entries back into a leaf.
func (d *dir) collapse(ctx context.Context) error {
	all, err := d.list(ctx)
	if err != nil {
		return err
	}
	d.slots = nil
	d.entries = make(map[string]*entry, len(all))
	for _, e := range all {
		d.entries[e.Name] = e
	}
	return nil
}

// list returns every entry, sorted by name.
func (d *dir) list(ctx context.Context) ([]*entry, error) {
	var out []*entry
	var walk func(*dir) error
	walk = func(n *dir) error {
		if err := n.load(ctx); err != nil {
			return err
		}
		n.own()
		if !n.isShard() {
			for _, e := range n.entries {
				out = append(out, e)
			}
			return nil
		}
		for _, c := range n.slots {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// flush seals every dirty node below and including d, appending the
// blocks to out, and returns d's CID.
func (d *dir) flush(ctx context.Context, out *[]blocks.Block) (cid.Cid, error) {
	if !d.dirty {
		return d.cid, nil
	}
	body := dirBody{Depth: d.depth, Count: uint64(d.count)}
	var links []Link
	d.own()
	if !d.isShard() {
		names := make([]string, 0, len(d.entries))
		for n := range d.entries {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			e := d.entries[n]
			if e.sub != nil {
				c, err := e.sub.flush(ctx, out)
				if err != nil {
					return cid.Undef, err
				}
				e.CID = c
			}
			body.Entries = append(body.Entries, dirEntry{Name: e.Name, Kind: string(e.Kind), Key: e.Key[:], Size: e.Size, Mtime: e.Mtime, Mode: e.Mode})
			links = append(links, Link{e.CID})
		}
	} else {
		slots := make([]int, 0, len(d.slots))
		for s := range d.slots {
			slots = append(slots, s)
		}
		slices.Sort(slots)
		for _, s := range slots {
			c, err := d.slots[s].flush(ctx, out)
			if err != nil {
				return cid.Undef, err
			}
			body.Slots = append(body.Slots, s)
			links = append(links, Link{c})
		}
	}
	key := d.v.dirSealKey(&d.key)
	blk, err := d.v.sealNode(&key, adDir, body, func(sealed []byte) bodiless {
		return dirNode{Type: "dir", V: 1, Links: links, Body: sealed}
	})
	if err != nil {
		return cid.Undef, fmt.Errorf("failed to seal directory %s: %w", d.what, err)
	}
	*out = append(*out, blk)
	d.cid = blk.Cid()
	d.dirty = false
	return d.cid, nil
}
