package vault

// bad.json: blocks a reader must refuse, each with the kind of refusal
// (expect) and why (comment), as C2SP's CCTV vectors of age do (SPEC.md,
// "Order of checks" and "Test vectors").

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

type badVectors struct {
	Note    string            `json:"note"`
	Secret  string            `json:"secret"` // the reader's account: the scenario's
	Expects map[string]string `json:"expects"`
	OpenAs  map[string]string `json:"open_as"`
	Cases   []badCase         `json:"cases"`
}

// badCase is one block to refuse. Blocks holds what it links to that a
// reader needs to reach the fault.
type badCase struct {
	Comment string        `json:"comment"`
	Expect  string        `json:"expect"`
	OpenAs  string        `json:"open_as"`
	CID     string        `json:"cid"`
	Key     string        `json:"key,omitempty"` // dir: the folder key to open it with
	Block   string        `json:"block"`
	Blocks  []blockVector `json:"blocks,omitempty"`
}

// badExpects are the kinds of refusal, in the order a reader checks
// (SPEC.md, "Order of checks").
var badExpects = map[string]string{
	"decode":    "not the canonical DAG-CBOR of its kind: not well-formed, bytes after it, not canonical (it encodes back to other bytes), no text type or integer v, or a key unknown, missing or of the wrong CBOR type; in the node or in its opened body",
	"type":      "a node of another type than its place wants",
	"version":   "v is not 1 (checked before the node's other keys)",
	"open":      "a sealed body or a chunk does not open: its bytes or a clear field of its node changed, or it was sealed under another key or label",
	"invalid":   "it decodes and opens but breaks a rule of its section: counts, order, sizes, depths, names, key and hash lengths, the codecs of links, shard placement",
	"signature": "a device certificate whose signature is not the account's over its bytes",
	"forged":    "a file version refused by the checks against forged versions (sealed by someone holding one file key)",
}

var badOpenAs = map[string]string{
	"file":    "the owner (secret) opens the version by its CID, with the key it derives from kid, and reads it whole",
	"dir":     "open the folder whose top node this is with key, and list it whole (every node below)",
	"snap":    "open the snapshot with the owner's index key",
	"history": "open the snapshot with the owner's index key, then each of its parents, as a walk of history does",
	"root":    "read the account root (no key)",
	"device":  "decode the certificate and check its signature against the account it names",
}

// asMap decodes a canonical node into a generic map, which encodes back
// to the same bytes.
func asMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := peekMode.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if again, _ := encMode.Marshal(m); !bytes.Equal(again, b) {
		t.Fatal("a generic map does not encode back to the node")
	}
	return m
}

func encode(t *testing.T, m any) []byte {
	t.Helper()
	b, err := encMode.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sealMap seals plain as the body of the node m under key and label, its
// associated data computed over m as it is (with "body" = h”), and
// returns the node's bytes.
func sealMap(t *testing.T, m map[string]any, key [32]byte, label string, plain []byte) []byte {
	t.Helper()
	m = maps.Clone(m)
	m["body"] = []byte{}
	h := sha256.Sum256(encode(t, m))
	sealed, err := sealBody(&key, append([]byte(label+"\x00"), h[:]...), plain)
	if err != nil {
		t.Fatal(err)
	}
	m["body"] = sealed
	return encode(t, m)
}

// flipBody flips one bit of byte i (from the end when negative) of a
// node's sealed body, sealing nothing again.
func flipBody(t *testing.T, b []byte, i int) []byte {
	t.Helper()
	m := asMap(t, b)
	body := bytes.Clone(m["body"].([]byte))
	if i < 0 {
		i += len(body)
	}
	body[i] ^= 1
	m["body"] = body
	return encode(t, m)
}

func without(m map[string]any, k string) map[string]any {
	m = maps.Clone(m)
	delete(m, k)
	return m
}

func with(m map[string]any, k string, v any) map[string]any {
	m = maps.Clone(m)
	m[k] = v
	return m
}

func makeBad(t *testing.T, sc *scenario) badVectors {
	ctx := context.Background()
	v := sc.v
	bv := badVectors{Note: regenerate, Secret: hex.EncodeToString(sc.acct.root[:]), Expects: badExpects, OpenAs: badOpenAs}
	add := func(expect, openAs, comment string, b []byte, key *[32]byte, extra ...blocks.Block) {
		c, _ := cborPrefix.Sum(b)
		bc := badCase{Comment: comment, Expect: expect, OpenAs: openAs, CID: c.String(), Block: hex.EncodeToString(b)}
		if key != nil {
			bc.Key = hex.EncodeToString(key[:])
		}
		for _, x := range extra {
			bc.Blocks = append(bc.Blocks, blockVector{x.Cid().String(), hex.EncodeToString(x.RawData())})
		}
		bv.Cases = append(bv.Cases, bc)
	}
	get := func(c cid.Cid) []byte {
		b, err := v.blocks.Get(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	mustBlock := func(p cid.Prefix, b []byte) blocks.Block {
		blk, err := newBlock(p, b)
		if err != nil {
			t.Fatal(err)
		}
		return blk
	}
	seal := func(key [32]byte, label string, body any, node bodiless) []byte {
		blk, err := v.sealNode(&key, label, body, func(sealed []byte) bodiless {
			switch n := node.(type) {
			case fileNode:
				n.Body = sealed
				return n
			case partNode:
				n.Body = sealed
				return n
			case dirNode:
				n.Body = sealed
				return n
			case snapNode:
				n.Body = sealed
				return n
			}
			panic("unknown node")
		})
		if err != nil {
			t.Fatal(err)
		}
		return blk.RawData()
	}

	// The material: /hello.txt's second version (one chunk, a prev
	// link), the root folder, snapshots 1 and 2, the account root and
	// the device certificate.
	e, err := sc.tr.Stat(ctx, "/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	hello, err := v.OpenFile(ctx, e.CID, "/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	fk := hello.Key
	fileB := get(hello.CID)
	var fn fileNode
	if err := unmarshal(fileB, &fn); err != nil {
		t.Fatal(err)
	}
	var fb fileBody
	if err := openNode(fn, adFile, &fk, &fb); err != nil {
		t.Fatal(err)
	}
	fm := asMap(t, fileB)
	plainFile, _ := marshal(fb)
	chunkB := get(fn.Links[0].Cid)
	chunkBlk := mustBlock(rawPrefix, chunkB)
	file := func(n fileNode, b fileBody) []byte { return seal(fk, adFile, b, n) }

	rootKey := sc.s2.RootKey
	dirB := get(sc.s2.Tree)
	var dn dirNode
	var db dirBody
	if err := unmarshal(dirB, &dn); err != nil {
		t.Fatal(err)
	}
	if err := openNode(dn, adDir, &rootKey, &db); err != nil {
		t.Fatal(err)
	}
	dir := func(key [32]byte, n dirNode, b dirBody) []byte { return seal(key, adDir, b, n) }
	// cloneDir copies a folder body deep enough to change its entries.
	cloneDir := func() (dirNode, dirBody) {
		n, b := dn, db
		n.Links = append([]Link(nil), dn.Links...)
		b.Entries = append([]dirEntry(nil), db.Entries...)
		return n, b
	}
	docs, _ := sc.tr.Stat(ctx, "/docs")
	docsB := get(docs.CID)

	snap2B, snap1B := get(sc.s2.CID), get(sc.s1.CID)
	var sn snapNode
	var sb snapBody
	if err := unmarshal(snap2B, &sn); err != nil {
		t.Fatal(err)
	}
	if err := openNode(sn, adSnap, &sc.acct.index, &sb); err != nil {
		t.Fatal(err)
	}
	snap := func(n snapNode, b snapBody) []byte { return seal(sc.acct.index, adSnap, b, n) }
	rootB := get(sc.root)
	rm := asMap(t, rootB)
	cm := asMap(t, sc.cert)

	// decode
	add("decode", "file", "cut short: the last 7 bytes of a good version are missing", fileB[:len(fileB)-7], nil)
	add("decode", "file", "a byte (0x00) after a good version", append(bytes.Clone(fileB), 0), nil)
	add("decode", "file", "a key version 1 does not have (\"zzz\": 1), the body sealed over the node with it", sealMap(t, with(fm, "zzz", 1), fk, adFile, plainFile), nil)
	// A map of 6 pairs (0xa6), its keys in the reverse of their order.
	if len(fm) != 6 {
		t.Fatal("the version has not 6 keys")
	}
	reversed := []byte{0xa6}
	for _, k := range []string{"links", "type", "prev", "body", "kid", "v"} {
		reversed = append(append(reversed, encode(t, k)...), encode(t, fm[k])...)
	}
	add("decode", "file", "the keys in the reverse of their order (links, type, prev, body, kid, v), not sorted by length then bytewise: not canonical", reversed, nil)
	i := bytes.Index(fileB, []byte{0x61, 'v', 0x01})
	if i < 0 || bytes.Count(fileB, []byte{0x61, 'v', 0x01}) != 1 {
		t.Fatal("no single \"v\": 1 in the version")
	}
	longV := append(append(bytes.Clone(fileB[:i]), 0x61, 'v', 0x18, 0x01), fileB[i+3:]...)
	add("decode", "file", "v written in two bytes (0x18 0x01) instead of one: not the shortest form", longV, nil)
	var indef []byte
	indef = append(indef, 0x9f)
	for _, l := range fn.Links {
		indef = append(indef, encode(t, l)...)
	}
	indef = append(indef, 0xff)
	emptyLinks := encode(t, with(fm, "links", []any{}))
	at := bytes.Index(emptyLinks, []byte("\x65links\x80"))
	if at < 0 {
		t.Fatal("no links in the version")
	}
	add("decode", "file", "links as an indefinite-length array", append(append(bytes.Clone(emptyLinks[:at+6]), indef...), emptyLinks[at+7:]...), nil)
	add("decode", "file", "prev is null: an optional key is absent, never null", sealMap(t, with(fm, "prev", nil), fk, adFile, plainFile), nil)
	add("decode", "file", "to is []: an optional key is absent, never empty", sealMap(t, with(fm, "to", []any{}), fk, adFile, plainFile), nil)
	add("decode", "file", "kid is a text string, not a byte string", sealMap(t, with(fm, "kid", string(fn.Kid)), fk, adFile, plainFile), nil)
	add("decode", "file", "v is true: no key of any node is a boolean", encode(t, with(fm, "v", true)), nil)
	add("decode", "file", "v is the float 1.0: no floats", encode(t, with(fm, "v", 1.0)), nil)
	add("decode", "file", "no v at all", encode(t, without(fm, "v")), nil)
	s1m := asMap(t, snap1B)
	add("decode", "snap", "the first snapshot without parents: a required key, written [] when empty", sealMap(t, without(s1m, "parents"), sc.acct.index, adSnap, mustOpen(t, snap1B, sc.acct.index, adSnap)), nil)
	dbm := asMap(t, mustOpen(t, dirB, rootKey, adDir))
	add("decode", "dir", "the folder's body (sealed as it should be) has a key a dir body does not have", sealMap(t, asMap(t, dirB), rootKey, adDir, encode(t, with(dbm, "zzz", 1))), &rootKey)
	add("decode", "root", "an account root without shares (a required key, [] when empty)", encode(t, without(rm, "shares")), nil)

	// type
	add("type", "file", "a version whose type says \"snap\"", sealMap(t, with(fm, "type", "snap"), fk, adFile, plainFile), nil)
	add("type", "dir", "a good file version where a folder's top node goes", fileB, &rootKey)

	// version
	add("version", "file", "a version of format version 2", sealMap(t, with(fm, "v", 2), fk, adFile, plainFile), nil)
	add("version", "file", "a version of format version 2 with a key version 1 does not have: refused for its version, checked first", sealMap(t, with(with(fm, "v", 2), "new", 1), fk, adFile, plainFile), nil)

	// open
	add("open", "file", "the first byte of the body's nonce flipped", flipBody(t, fileB, 0), nil)
	add("open", "file", "a byte of the body's ciphertext flipped", flipBody(t, fileB, 30), nil)
	add("open", "file", "the last byte of the body's tag flipped", flipBody(t, fileB, -1), nil)
	links := fm["links"].([]any)
	tag := links[len(links)-1].(cbor.Tag)
	lb := bytes.Clone(tag.Content.([]byte))
	lb[len(lb)-1] ^= 1
	add("open", "file", "a clear field changed, the body not: the last byte of the chunk link's hash (the body's associated data covers every clear field)", encode(t, with(fm, "links", []any{cbor.Tag{Number: linkTag, Content: lb}})), nil)
	add("open", "file", "a clear field removed, the body not: the version without its prev link", encode(t, without(fm, "prev")), nil)
	add("open", "file", "the body sealed with the label of a part node (\"peer/v1 part\")", sealMap(t, fm, fk, adPart, plainFile), nil)
	badChunk := bytes.Clone(chunkB)
	badChunk[3] ^= 1
	badChunkBlk := mustBlock(rawPrefix, badChunk)
	n := fn
	n.Links = []Link{{badChunkBlk.Cid()}}
	add("open", "file", "a chunk whose ciphertext changed (byte 3), the version sealed again to link to it", file(n, fb), nil, badChunkBlk)
	// The same content written with one part node (valid: grouping is
	// the writer's), then its part node damaged.
	withPart := func(pb partBody, tamper bool) []byte {
		pblock := seal(fk, adPart, pb, partNode{Type: "part", V: 1, Links: fn.Links})
		if tamper {
			pblock = flipBody(t, pblock, 30)
		}
		pblk := mustBlock(cborPrefix, pblock)
		n, b := fn, fb
		n.Links = []Link{{pblk.Cid()}}
		b.Depth, b.Parts = 1, []partEntry{{Size: fb.Size}}
		return file(n, b)
	}
	goodPart := partBody{Depth: 0, Parts: fb.Parts}
	partBlk := func(pb partBody, tamper bool) blocks.Block {
		pblock := seal(fk, adPart, pb, partNode{Type: "part", V: 1, Links: fn.Links})
		if tamper {
			pblock = flipBody(t, pblock, 30)
		}
		return mustBlock(cborPrefix, pblock)
	}
	if err := readWhole(t, sc.acct, withPart(goodPart, false), partBlk(goodPart, false), chunkBlk); err != nil {
		t.Fatalf("a version with one part node does not read: %v", err)
	}
	add("open", "file", "a version of depth 1 whose part node's body has a byte flipped", withPart(goodPart, true), nil, partBlk(goodPart, true), chunkBlk)
	add("open", "dir", "a byte of the folder's body flipped", flipBody(t, dirB, 40), &rootKey)
	add("open", "dir", "the good node of /docs, opened with the key of the root folder", docsB, &rootKey)
	add("open", "snap", "a byte of the snapshot's body flipped", flipBody(t, snap2B, 40), nil)
	s2m := asMap(t, snap2B)
	ptag := s2m["parents"].([]any)[0].(cbor.Tag)
	pb := bytes.Clone(ptag.Content.([]byte))
	pb[len(pb)-1] ^= 1
	add("open", "snap", "the parent link changed, the body not", encode(t, with(s2m, "parents", []any{cbor.Tag{Number: linkTag, Content: pb}})), nil)

	// invalid
	{
		b := fb
		b.Parts = append(append([]partEntry(nil), fb.Parts...), fb.Parts...)
		b.Size *= 2
		add("invalid", "file", "two parts entries for one link", file(fn, b), nil)
	}
	{
		b := fb
		b.Size++
		add("invalid", "file", "size one more than the parts hold", file(fn, b), nil)
	}
	{
		b := fb
		b.Parts = []partEntry{{Size: ChunkMax + 1, Key: fb.Parts[0].Key}}
		b.Size = ChunkMax + 1
		add("invalid", "file", "a chunk said to hold 1 MiB + 1 bytes, more than any chunk may", file(fn, b), nil)
	}
	{
		b := fb
		b.Parts = []partEntry{{Size: fb.Parts[0].Size, Key: fb.Parts[0].Key[:31]}}
		add("invalid", "file", "a chunk key of 31 bytes", file(fn, b), nil)
	}
	{
		b := fb
		b.Depth = 9
		add("invalid", "file", "depth 9: the part tree is at most 8 deep", file(fn, b), nil)
	}
	{
		b := fb
		b.Hash = fb.Hash[:31]
		add("invalid", "file", "a content hash of 31 bytes", file(fn, b), nil)
	}
	{
		n := fn
		n.Kid = fn.Kid[:15]
		add("invalid", "file", "a kid of 15 bytes (the body sealed under the key derived from it)", seal(sc.acct.fileKey(n.Kid), adFile, fb, n), nil)
	}
	{
		n := fn
		n.Links = []Link{{hello.Prev}}
		add("invalid", "file", "a depth-0 link that is dag-cbor (the previous version), not a raw chunk", file(n, fb), nil)
	}
	{
		pb := goodPart
		pb.Depth = 1
		add("invalid", "file", "a part node whose depth is its parent's (1), not one less", withPart(pb, false), nil, partBlk(pb, false), chunkBlk)
	}
	{
		// The file node's entry says one byte more than its part node's
		// entries hold (the file node's own sizes add up).
		n, b := fn, fb
		pblk := partBlk(goodPart, false)
		n.Links = []Link{{pblk.Cid()}}
		b.Depth, b.Size, b.Parts = 1, fb.Size+1, []partEntry{{Size: fb.Size + 1}}
		add("invalid", "file", "a version of depth 1 whose entry says one byte more than its part node holds", file(n, b), nil, pblk, chunkBlk)
	}
	{
		// Above depth 0 a part entry has no chunk key.
		n, b := fn, fb
		pblk := partBlk(goodPart, false)
		n.Links = []Link{{pblk.Cid()}}
		b.Depth, b.Parts = 1, []partEntry{{Size: fb.Size, Key: fb.Parts[0].Key}}
		add("invalid", "file", "a version of depth 1 whose part entry has a chunk key (entries above depth 0 have none)", file(n, b), nil, pblk, chunkBlk)
	}
	{
		n, b := fn, fb
		b.Depth, b.Parts = 1, []partEntry{{Size: fb.Size}}
		add("invalid", "file", "a version of depth 1 whose link is the raw chunk, not a part node", file(n, b), nil, chunkBlk)
	}
	{
		// The entry says one byte less than the chunk holds; the content
		// hash, kid and key are made over what the entry says, so only
		// the read finds it.
		l := leaf{fn.Links[0].Cid, fb.Parts[0].Size - 1, [32]byte(fb.Parts[0].Key)}
		hash := contentHash([]leaf{l})
		n, b := fn, fb
		n.Kid = sc.acct.fileID(hash)
		b.Hash, b.Size, b.Parts = hash[:], l.size, []partEntry{{Size: l.size, Key: fb.Parts[0].Key}}
		add("invalid", "file", fmt.Sprintf("a chunk of %d bytes whose entry says %d, the content hash, kid and key made over %d (refused when read)", l.size+1, l.size, l.size), seal(sc.acct.fileKey(n.Kid), adFile, b, n), nil, chunkBlk)
	}
	{
		n, b := cloneDir()
		n.Links[0], n.Links[1] = n.Links[1], n.Links[0]
		b.Entries[0], b.Entries[1] = b.Entries[1], b.Entries[0]
		add("invalid", "dir", "two entries (and their links) out of bytewise order", dir(rootKey, n, b), &rootKey)
	}
	{
		n, b := cloneDir()
		b.Count++
		add("invalid", "dir", "count one more than the leaf's entries", dir(rootKey, n, b), &rootKey)
	}
	for _, name := range []string{"..", "a/b", strings.Repeat("x", 256)} {
		n, b := cloneDir()
		b.Entries[0].Name = name
		add("invalid", "dir", fmt.Sprintf("an entry named %.12q (%d bytes), which section Folders refuses", name, len(name)), dir(rootKey, n, b), &rootKey)
	}
	{
		n, b := cloneDir()
		b.Entries[0].Kind = "link"
		add("invalid", "dir", "an entry of kind \"link\"", dir(rootKey, n, b), &rootKey)
	}
	{
		n, b := cloneDir()
		b.Entries[0].Key = b.Entries[0].Key[:31]
		add("invalid", "dir", "an entry whose key has 31 bytes", dir(rootKey, n, b), &rootKey)
	}
	{
		n, b := cloneDir()
		b.Slots = []int{1}
		add("invalid", "dir", "a node with both entries and slots", dir(rootKey, n, b), &rootKey)
	}
	{
		n, b := cloneDir()
		b.Depth = 1
		add("invalid", "dir", "a folder's top node whose depth is 1, not 0", dir(rootKey, n, b), &rootKey)
	}
	{
		n, b := cloneDir()
		n.Links = n.Links[:len(n.Links)-1]
		add("invalid", "dir", fmt.Sprintf("a leaf of %d entries and %d links", len(b.Entries), len(n.Links)), dir(rootKey, n, b), &rootKey)
	}
	{
		// 1001 entries in one leaf, each a good entry of /hello.txt's
		// version: the count is all that is wrong.
		var n dirNode
		var b dirBody
		n.Type, n.V = "dir", 1
		for i := range leafMax + 1 {
			n.Links = append(n.Links, Link{hello.CID})
			b.Entries = append(b.Entries, dirEntry{Name: fmt.Sprintf("f%04d", i), Kind: "file", Key: fk[:], Size: hello.Size, Mtime: hello.Mtime, Mode: hello.Mode})
		}
		b.Count = uint64(len(b.Entries))
		add("invalid", "dir", "a leaf of 1001 entries (f0000 to f1000): a node of more than 1000 is a shard", dir(rootKey, n, b), &rootKey)
	}
	// Shards, under the root folder's key: a leaf at depth 1 holding "a",
	// put in a slot "a" does not hash to.
	slotA := int(blake3Keyed(rootKey[:], []byte("a"))[0])
	wrong := (slotA + 1) % 256
	leaf := mustBlock(cborPrefix, dir(rootKey, dirNode{Type: "dir", V: 1, Links: []Link{{hello.CID}}}, dirBody{Depth: 1, Count: 1, Entries: []dirEntry{{Name: "a", Kind: "file", Key: fk[:], Size: hello.Size, Mtime: hello.Mtime, Mode: hello.Mode}}}))
	shard := func(depth int, count uint64, slots []int, links ...cid.Cid) []byte {
		var ls []Link
		for _, l := range links {
			ls = append(ls, Link{l})
		}
		return dir(rootKey, dirNode{Type: "dir", V: 1, Links: ls}, dirBody{Depth: depth, Count: count, Slots: slots})
	}
	add("invalid", "dir", fmt.Sprintf("a shard whose only child, in slot %d, holds \"a\", whose slot is %d", wrong, slotA), shard(0, 1001, []int{wrong}, leaf.Cid()), &rootKey, leaf)
	add("invalid", "dir", "a shard counting 1000 entries: a node of 1000 or fewer is a leaf", shard(0, 1000, []int{slotA}, leaf.Cid()), &rootKey, leaf)
	add("invalid", "dir", "a shard's slots out of order (5, 3)", shard(0, 1001, []int{5, 3}, leaf.Cid(), leaf.Cid()), &rootKey, leaf)
	add("invalid", "dir", "a shard slot 256", shard(0, 1001, []int{256}, leaf.Cid()), &rootKey, leaf)
	add("invalid", "dir", "a shard of two slots (3, 5) and one link", shard(0, 1001, []int{3, 5}, leaf.Cid()), &rootKey, leaf)
	{
		// Shards in slot 0 from depth 0 down to depth 31: the one at
		// depth 31 is refused (a shard's depth is below 31).
		var chain []blocks.Block
		below := sc.s2.Tree
		for d := 31; d >= 1; d-- {
			blk := mustBlock(cborPrefix, shard(d, 1001, []int{0}, below))
			chain = append(chain, blk)
			below = blk.Cid()
		}
		add("invalid", "dir", "shards in slot 0 at depths 0 to 31, each counting 1001: the one at depth 31 is refused (30 is the deepest shard)", shard(0, 1001, []int{0}, below), &rootKey, chain...)
	}
	{
		b := sb
		b.Seq = 0
		add("invalid", "snap", "seq 0", snap(sn, b), nil)
	}
	{
		b := sb
		b.Root = sb.Root[:16]
		add("invalid", "snap", "a root folder key of 16 bytes", snap(sn, b), nil)
	}
	{
		n := sn
		n.Tree = Link{chunkBlk.Cid()}
		add("invalid", "snap", "the tree is a raw link (a chunk)", snap(n, sb), nil)
	}
	{
		// Snapshot 2 sealed again with seq 1, its parent's (snapshot 1).
		b := sb
		b.Seq = 1
		add("invalid", "history", "a snapshot of seq 1 whose parent (snapshot 1) has seq 1: a parent's seq is below its child's", snap(sn, b), nil, mustBlock(cborPrefix, snap1B))
	}
	add("invalid", "root", "a box key of 31 bytes", encode(t, with(rm, "box", rm["box"].([]byte)[:31])), nil)
	add("invalid", "root", "the head is a raw link", encode(t, with(rm, "head", cbor.Tag{Number: linkTag, Content: append([]byte{0}, chunkBlk.Cid().Bytes()...)})), nil)
	add("decode", "device", "a certificate without sig (a required key, left out only of the bytes signed)", encode(t, without(cm, "sig")), nil)
	{
		// Signed by the account as a good certificate is, over a device
		// that is no peer ID.
		c, err := ParseDeviceCert(sc.cert)
		if err != nil {
			t.Fatal(err)
		}
		c.Device = "abc"
		msg, _ := c.signedBytes()
		if c.Sig, err = sc.acct.SigningKey().Sign(msg); err != nil {
			t.Fatal(err)
		}
		b, _ := c.Marshal()
		add("invalid", "device", "a certificate, signed by the account, whose device is the 3 bytes \"abc\", not a peer ID", b, nil)
	}

	// signature
	{
		c, err := ParseDeviceCert(sc.cert)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := c.signedBytes()
		if c.Sig, err = sc.friends[0].SigningKey().Sign(msg); err != nil {
			t.Fatal(err)
		}
		b, _ := c.Marshal()
		add("signature", "device", "the scenario's certificate signed by recipient 1's account key, not the account's", b, nil)
	}
	add("signature", "device", "the scenario's certificate with its name changed (\"phone\") after signing", encode(t, with(cm, "name", "phone")), nil)

	// forged
	addForged(t, sc, add)
	return bv
}

// mustOpen opens a good node's body.
func mustOpen(t *testing.T, b []byte, key [32]byte, label string) []byte {
	t.Helper()
	m := asMap(t, b)
	plain, err := openBody(&key, adOf(t, b, label), m["body"].([]byte))
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// readWhole opens a version block by its CID as the owner and reads it.
func readWhole(t *testing.T, acct *Account, b []byte, extra ...blocks.Block) error {
	t.Helper()
	mem := newMem()
	for _, x := range extra {
		put(t, mem, x.Cid().String(), x.RawData())
	}
	c, _ := cborPrefix.Sum(b)
	put(t, mem, c.String(), b)
	v := New(acct, mem)
	fv, err := v.OpenFile(context.Background(), c, "")
	if err != nil {
		return err
	}
	return v.ReadRange(context.Background(), fv, io.Discard, 0, -1)
}

// addForged adds versions sealed by a recipient of /shared.txt, who
// holds its file key and nothing else of the account: other content under
// the key, each of which the owner must refuse (SPEC.md, "Checks against
// forged versions").
func addForged(t *testing.T, sc *scenario, add func(expect, openAs, comment string, b []byte, key *[32]byte, extra ...blocks.Block)) {
	ctx := context.Background()
	v := sc.v
	e, err := sc.tr.Stat(ctx, "/shared.txt")
	if err != nil {
		t.Fatal(err)
	}
	fv, err := v.OpenFile(ctx, e.CID, "/shared.txt")
	if err != nil {
		t.Fatal(err)
	}
	var n fileNode
	if err := decodeNode(ctx, v.blocks, fv.CID, "", "file", &n); err != nil {
		t.Fatal(err)
	}
	chunk := func(key [32]byte, plain string) (leaf, blocks.Block) {
		blk, _ := newBlock(rawPrefix, sealChunk(&key, append([]byte(plain), make([]byte, 16)...)[:len(plain)]))
		return leaf{blk.Cid(), uint64(len(plain)), key}, blk
	}
	entries := func(ls []leaf) ([]Link, []partEntry) {
		var links []Link
		var parts []partEntry
		for _, l := range ls {
			links = append(links, Link{l.c})
			parts = append(parts, partEntry{Size: l.size, Key: bytes.Clone(l.key[:])})
		}
		return links, parts
	}
	version := func(what string, hash [32]byte, depth int, links []Link, parts []partEntry, extra ...blocks.Block) {
		var size uint64
		for _, p := range parts {
			size += p.Size
		}
		body := fileBody{Name: fv.Name, Size: size, Mode: fv.Mode, Mtime: fv.Mtime, Time: fv.Time + 1, Device: fv.Device, Hash: hash[:], Depth: depth, Parts: parts}
		blk, err := v.sealNode(&fv.Key, adFile, body, func(b []byte) bodiless {
			return fileNode{Type: "file", V: 1, Kid: n.Kid, Links: links, Body: b}
		})
		if err != nil {
			t.Fatal(err)
		}
		add("forged", "file", "sealed under the file key of /shared.txt by a recipient: "+what, blk.RawData(), nil, extra...)
	}
	var other [32]byte
	copy(other[:], "a chunk key of the forger's own.")
	forged, forgedBlock := chunk(other, "forged\n")
	links, parts := entries([]leaf{forged})
	version("other content, the original content hash (refused when opened: the chunks are not the hash's)", fv.Hash, 0, links, parts, forgedBlock)
	version("other content with its own content hash (refused when opened: kid is not the hash's)", contentHash([]leaf{forged}), 0, links, parts, forgedBlock)
	var orig [32]byte
	copy(orig[:], fv.parts[0].Key)
	swapped, swappedBlock := chunk(orig, strings.Repeat("?", int(fv.parts[0].Size)))
	links, parts = entries([]leaf{swapped})
	version("other bytes under the original chunk key (refused when read: the chunk is not its key's)", fv.Hash, 0, links, parts, swappedBlock)
	links, parts = entries([]leaf{forged})
	part, err := v.sealNode(&fv.Key, adPart, partBody{Depth: 0, Parts: parts}, func(b []byte) bodiless {
		return partNode{Type: "part", V: 1, Links: links, Body: b}
	})
	if err != nil {
		t.Fatal(err)
	}
	version("other content in a part node (refused when read: the parts are not the hash's)", fv.Hash, 1, []Link{{part.Cid()}}, []partEntry{{Size: forged.size}}, part, forgedBlock)
}

// checkBadVectors opens every bad block as its case says, from the data
// alone, and wants it refused with the expected kind of error.
func checkBadVectors(t *testing.T, bv badVectors) {
	ctx := context.Background()
	acct, err := AccountFromSecret(mustHex(t, bv.Secret))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, bc := range bv.Cases {
		if bv.Expects[bc.Expect] == "" || bv.OpenAs[bc.OpenAs] == "" {
			t.Fatalf("%s: expect %q or open_as %q is not described", bc.Comment, bc.Expect, bc.OpenAs)
		}
		seen[bc.Expect] = true
		mem := storeOf(t, bc.Blocks)
		b := mustHex(t, bc.Block)
		put(t, mem, bc.CID, b)
		c := mustCIDOf(t, bc.CID)
		v := New(acct, mem)
		switch bc.OpenAs {
		case "file":
			var fv *FileVersion
			if fv, err = v.OpenFile(ctx, c, "bad"); err == nil {
				err = v.ReadRange(ctx, fv, io.Discard, 0, -1)
			}
		case "dir":
			_, err = v.storedDir(c, key32(t, bc.Key), "bad").list(ctx)
		case "snap":
			_, err = v.OpenSnapshot(ctx, c)
		case "history":
			var s *Snapshot
			if s, err = v.OpenSnapshot(ctx, c); err == nil {
				for _, p := range s.Parents {
					if _, err = v.openParent(ctx, s, p); err != nil {
						break
					}
				}
			}
		case "root":
			_, err = ReadRoot(ctx, mem, c)
		case "device":
			_, err = ParseDeviceCert(b)
		}
		if got := errorKind(err, bc.OpenAs); got != bc.Expect {
			t.Errorf("%s: refused as %s (%v), want %s", bc.Comment, got, err, bc.Expect)
		}
	}
	for k := range bv.Expects {
		if !seen[k] {
			t.Errorf("no bad vector expects %s", k)
		}
	}
}

// errorKind names the kind of refusal err is (bad.json's expect).
func errorKind(err error, openAs string) string {
	var de *DamagedError
	switch {
	case err == nil:
		return "accepted"
	case errors.Is(err, ErrForged):
		return "forged"
	case errors.Is(err, ErrWrongKey):
		return "open"
	case errors.Is(err, errVersion):
		return "version"
	case errors.Is(err, errType):
		return "type"
	case errors.Is(err, errDecode):
		return "decode"
	case errors.Is(err, errSignature):
		return "signature"
	case errors.As(err, &de), openAs == "device":
		return "invalid"
	}
	return "not a refusal of the block"
}
