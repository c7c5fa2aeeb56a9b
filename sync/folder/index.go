package folder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"strings"

	cid "github.com/ipfs/go-cid"
)

// Kinds of what an index entry records.
const (
	kindFile = 1
	kindDir  = 2
)

// entryVersion is the first byte of an encoded entry.
const entryVersion = 1

// entry is what the index knows of one path: how the disk held it when it
// was last scanned or written (the quick check compares these), and what
// in the vault it corresponds to. A synced folder holds one per path, so
// it is kept small (80 bytes with its allocation, where a cid.Cid and a
// slice took 144): the version or key hash lives in id, not behind
// pointers.
type entry struct {
	Kind  byte
	idLen byte
	Mode  uint32
	Size  int64
	Mtime int64 // unix nanoseconds
	Inode uint64
	// id is, for a file, the bytes of the file version the disk holds;
	// for a folder, a hash of its folder key, which identifies the vault
	// folder the disk folder is, so that a move in the vault is a rename
	// here.
	id [maxID]byte
}

// maxID bounds what an entry's id holds. The vault's CIDs are 36 bytes
// (CIDv1, dag-cbor, SHA-256) and key hashes 16.
const maxID = 40

// verEntry is the entry of a file whose disk content is version c. A CID
// too long to hold is not recorded: the entry then matches no version,
// and the file is checked again (never taken for unchanged).
func verEntry(c cid.Cid) entry {
	var e entry
	if b := c.Bytes(); len(b) <= maxID {
		e.idLen = byte(copy(e.id[:], b))
	}
	return e
}

// keyEntry is the entry of a folder whose folder key hashes to k.
func keyEntry(k []byte) entry {
	var e entry
	if len(k) <= maxID {
		e.idLen = byte(copy(e.id[:], k))
	}
	return e
}

// Ver is the file version the disk holds (files); undefined when none.
func (e *entry) Ver() cid.Cid {
	if e.Kind != kindFile || e.idLen == 0 {
		return cid.Undef
	}
	c, err := cid.Cast(e.id[:e.idLen])
	if err != nil {
		return cid.Undef
	}
	return c
}

// isVer reports whether the disk holds version c (files).
func (e *entry) isVer(c cid.Cid) bool {
	return e.Kind == kindFile && e.idLen > 0 && c.Defined() && c.KeyString() == string(e.id[:e.idLen])
}

// Key is the hash of the folder's key (folders); nil when none.
func (e *entry) Key() []byte {
	if e.Kind != kindDir || e.idLen == 0 {
		return nil
	}
	return e.id[:e.idLen:e.idLen]
}

// sameDisk reports whether the disk still holds what e recorded: the
// quick check (size, mtime, mode and inode; for folders, kind only).
func (e *entry) sameDisk(s diskStat) bool {
	if e.Kind != s.Kind {
		return false
	}
	if e.Kind == kindDir {
		return true
	}
	return e.Size == s.Size && e.Mtime == s.Mtime && e.Mode == s.Mode && e.Inode == s.Inode
}

// withStat returns e with the disk facts of s.
func (e entry) withStat(s diskStat) entry {
	e.Kind, e.Size, e.Mtime, e.Mode, e.Inode = s.Kind, s.Size, s.Mtime, s.Mode, s.Inode
	return e
}

// marshalEntry encodes e: a version byte, the kind, then varints and
// length-prefixed byte strings.
func marshalEntry(e entry) []byte {
	b := []byte{entryVersion, e.Kind}
	b = binary.AppendUvarint(b, uint64(e.Size))
	b = binary.AppendVarint(b, e.Mtime)
	b = binary.AppendUvarint(b, uint64(e.Mode))
	b = binary.AppendUvarint(b, e.Inode)
	var ver, key []byte
	if e.Kind == kindFile {
		ver = e.id[:e.idLen]
	} else {
		key = e.id[:e.idLen]
	}
	for _, f := range [][]byte{ver, key} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// errBadEntry is wrapped by errors about an index record that cannot be
// read.
var errBadEntry = errors.New("damaged folder index record")

// maxField bounds a byte string in a record (a CID or a key hash).
const maxField = 128

// unmarshalEntry decodes what marshalEntry wrote, refusing anything else.
func unmarshalEntry(b []byte) (entry, error) {
	var e entry
	r := reader{b: b}
	if v := r.byte(); v != entryVersion {
		return e, fmt.Errorf("%w: version %d", errBadEntry, v)
	}
	e.Kind = r.byte()
	size := r.uvarint()
	e.Mtime = r.varint()
	mode := r.uvarint()
	e.Inode = r.uvarint()
	ver, key := r.bytes(), r.bytes()
	if r.err != nil {
		return e, fmt.Errorf("%w: %v", errBadEntry, r.err)
	}
	if len(r.b) != 0 {
		return e, fmt.Errorf("%w: %d bytes too many", errBadEntry, len(r.b))
	}
	if e.Kind != kindFile && e.Kind != kindDir {
		return e, fmt.Errorf("%w: kind %d", errBadEntry, e.Kind)
	}
	if size > 1<<62 || mode > 0o7777 {
		return e, fmt.Errorf("%w: size %d, mode %o", errBadEntry, size, mode)
	}
	e.Size, e.Mode = int64(size), uint32(mode)
	c, err := castCID(ver)
	if err != nil {
		return e, err
	}
	switch {
	case e.Kind == kindFile && len(key) != 0, e.Kind == kindDir && len(ver) != 0:
		return e, fmt.Errorf("%w: kind %d with the other kind's id", errBadEntry, e.Kind)
	case len(ver) > maxID || len(key) > maxID:
		return e, fmt.Errorf("%w: an id of %d bytes", errBadEntry, max(len(ver), len(key)))
	}
	kind := e.Kind
	if c.Defined() {
		e = verEntry(c).withStat(diskStat{Kind: kind, Size: e.Size, Mtime: e.Mtime, Mode: e.Mode, Inode: e.Inode})
	} else if len(key) > 0 {
		e = keyEntry(key).withStat(diskStat{Kind: kind, Size: e.Size, Mtime: e.Mtime, Mode: e.Mode, Inode: e.Inode})
	}
	return e, nil
}

func castCID(b []byte) (cid.Cid, error) {
	if len(b) == 0 {
		return cid.Undef, nil
	}
	c, err := cid.Cast(b)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: %v", errBadEntry, err)
	}
	return c, nil
}

// reader reads the fields of a record, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s cut short", what)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail("record")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// uvarint reads a number in its shortest encoding only: a record has one
// encoding, so what is read encodes back to the same bytes.
func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || n != len(binary.AppendUvarint(nil, v)) {
		r.fail("number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 || n != len(binary.AppendVarint(nil, v)) {
		r.fail("number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > maxField || n > uint64(len(r.b)) {
		r.fail("byte string")
		return nil
	}
	v := append([]byte(nil), r.b[:n]...)
	r.b = r.b[n:]
	return v
}

// index is a folder's index in memory: entries by path relative to the
// folder ("a/b"; the folder itself is ""), and each folder's names.
type index struct {
	ents map[string]*entry
	kids map[string]map[string]struct{}
}

func newIndex() *index {
	return &index{ents: map[string]*entry{}, kids: map[string]map[string]struct{}{}}
}

// parent splits rel into its folder and name.
func parent(rel string) (string, string) {
	dir, name := path.Split(rel)
	return strings.TrimSuffix(dir, "/"), name
}

func (ix *index) get(rel string) *entry { return ix.ents[rel] }

// clone copies the index (entries are replaced, never changed in place).
func (ix *index) clone() *index {
	c := newIndex()
	for p, e := range ix.ents {
		c.ents[p] = e
	}
	for p, k := range ix.kids {
		m := make(map[string]struct{}, len(k))
		for n := range k {
			m[n] = struct{}{}
		}
		c.kids[p] = m
	}
	return c
}

// move re-keys from and everything below it to to, returning the old
// and new paths in the same order.
func (ix *index) move(from, to string) (olds, news []string) {
	type pe struct {
		p string
		e *entry
	}
	var all []pe
	ix.walk(from, func(p string, e *entry) { all = append(all, pe{p, e}) })
	ix.del(from)
	for _, x := range all {
		np := to + strings.TrimPrefix(x.p, from)
		ix.set(np, *x.e)
		olds, news = append(olds, x.p), append(news, np)
	}
	return olds, news
}

func (ix *index) set(rel string, e entry) {
	ix.ents[rel] = &e
	dir, name := parent(rel)
	k := ix.kids[dir]
	if k == nil {
		k = map[string]struct{}{}
		ix.kids[dir] = k
	}
	k[name] = struct{}{}
}

// del removes rel and everything below it, returning the paths removed.
func (ix *index) del(rel string) []string {
	var out []string
	ix.walk(rel, func(p string, _ *entry) { out = append(out, p) })
	for _, p := range out {
		delete(ix.ents, p)
		delete(ix.kids, p)
	}
	dir, name := parent(rel)
	if k := ix.kids[dir]; k != nil {
		delete(k, name)
		if len(k) == 0 {
			delete(ix.kids, dir)
		}
	}
	return out
}

// children returns the names the index holds in folder rel.
func (ix *index) children(rel string) []string {
	var out []string
	for n := range ix.kids[rel] {
		out = append(out, n)
	}
	return out
}

// walk calls fn for rel (when held) and every path below it.
func (ix *index) walk(rel string, fn func(string, *entry)) {
	if e := ix.ents[rel]; e != nil {
		fn(rel, e)
	}
	for n := range ix.kids[rel] {
		ix.walk(join(rel, n), fn)
	}
}

// join appends name to the relative path dir.
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// under reports whether p is rel or below it.
func under(p, rel string) bool {
	return rel == "" || p == rel || strings.HasPrefix(p, rel+"/")
}
