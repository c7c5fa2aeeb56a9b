package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/chacha20poly1305"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors from this implementation")

// vectorsFile holds SPEC.md's test vectors.
var vectorsFile = filepath.Join("..", "testdata", "vectors", "vault.json")

// testStream is the deterministic byte stream of the vectors: the
// concatenation of SHA-256("peer/v1 test stream" || seed || i), for i =
// 0, 1, ... as 8-byte big-endian integers, cut to n bytes.
func testStream(seed string, n int) []byte {
	out := make([]byte, 0, n+32)
	for i := uint64(0); len(out) < n; i++ {
		var ib [8]byte
		binary.BigEndian.PutUint64(ib[:], i)
		h := sha256.Sum256(append(append([]byte("peer/v1 test stream"), seed...), ib[:]...))
		out = append(out, h[:]...)
	}
	return out[:n]
}

type keyVector struct {
	Secret        string `json:"secret"`
	Phrase        string `json:"phrase"`
	Account       string `json:"account"`
	SigningPublic string `json:"signing_public"`
	BoxPublic     string `json:"box_public"`
	IndexKey      string `json:"index_key"`
	ChunkSecret   string `json:"chunk_secret"`
	FileSecret    string `json:"file_secret"`
}

type chunkerVector struct {
	Stream string `json:"stream"` // seed of testStream
	Length int    `json:"length"`
	Sizes  []int  `json:"sizes"`
}

// objectVector is one block of the scenario with what made it: the key it
// is sealed with, the associated data, the nonce and the plaintext. Chunk
// plaintexts longer than 1 KiB are given as a range of a test stream.
type objectVector struct {
	What   string `json:"what"`
	Type   string `json:"type"` // chunk, file, part, dir, snap, device
	CID    string `json:"cid"`
	Key    string `json:"key,omitempty"`
	Label  string `json:"label,omitempty"`
	AD     string `json:"ad,omitempty"` // hex: label, 0x00, SHA-256 of the block with an empty body
	Nonce  string `json:"nonce,omitempty"`
	Plain  string `json:"plain,omitempty"`
	Stream string `json:"plain_stream,omitempty"` // "seed offset length"
	Block  string `json:"block,omitempty"`        // omitted for chunks: the CID fixes the bytes
}

type badVector struct {
	What   string `json:"what"`
	Type   string `json:"type"`
	CID    string `json:"cid"`
	Key    string `json:"key,omitempty"` // a folder's key
	Block  string `json:"block"`
	Forged bool   `json:"forged,omitempty"` // refused as a forged version, when opened or read
	// Blocks the bad block links to, that a reader needs to find the
	// forgery.
	Blocks []badBlock `json:"blocks,omitempty"`
}

type badBlock struct {
	CID   string `json:"cid"`
	Block string `json:"block"`
}

type vectorSet struct {
	Note     string          `json:"note"`
	Keys     []keyVector     `json:"keys"`
	Chunker  []chunkerVector `json:"chunker"`
	Scenario struct {
		Secret    string         `json:"secret"`
		Rand      string         `json:"rand"`  // seed of the stream nonces and keys come from
		Clock     string         `json:"clock"` // first time; each use adds one second
		Device    string         `json:"device"`
		Recipient string         `json:"recipient_secret"`
		Head      string         `json:"head"`
		Objects   []objectVector `json:"objects"`
	} `json:"scenario"`
	Bad   []badVector   `json:"bad"`
	Merge []mergeVector `json:"merge"`
}

// mergeVector is a history made by hand, the heads of it to merge and
// the snapshot every implementation must write merging them (SPEC.md
// §9): with deterministic sealing, its CID checks the whole merge.
type mergeVector struct {
	What   string            `json:"what"`
	Secret string            `json:"secret"`
	Heads  []string          `json:"heads"`
	Blocks []badBlock        `json:"blocks"` // every block of the history, in the order written
	Merged string            `json:"merged"`
	Files  map[string]string `json:"files"` // the merge's files and their contents
}

// recorder keeps blocks in memory and remembers the order they came in.
type recorder struct {
	*memBlocks
	order []cid.Cid
}

func (r *recorder) Put(ctx context.Context, bs []blocks.Block) error {
	for _, b := range bs {
		if _, ok := r.m[string(b.Cid().Hash())]; !ok {
			r.order = append(r.order, b.Cid())
		}
	}
	return r.memBlocks.Put(ctx, bs)
}

func makeVectors(t *testing.T) vectorSet {
	ctx := context.Background()
	var vs vectorSet
	vs.Note = "Test vectors of SPEC.md. Regenerate with: go test ./vault -run TestVectors -update"
	for _, seed := range []byte{0, 1, 0xff} {
		a, _ := AccountFromSecret(bytes.Repeat([]byte{seed}, 32))
		pub := a.signing.Public()
		vs.Keys = append(vs.Keys, keyVector{
			Secret: hex.EncodeToString(a.root[:]), Phrase: a.Phrase(), Account: a.ID(),
			SigningPublic: hex.EncodeToString(pub.(ed25519.PublicKey)), BoxPublic: hex.EncodeToString(a.boxPub[:]),
			IndexKey: hex.EncodeToString(a.index[:]), ChunkSecret: hex.EncodeToString(a.chunk[:]), FileSecret: hex.EncodeToString(a.file[:]),
		})
	}
	for _, n := range []int{100, ChunkMin + 1, 3 << 20} {
		data := testStream("chunker", n)
		cv := chunkerVector{Stream: "chunker", Length: n}
		for rest := data; len(rest) > 0; {
			k := cut(rest)
			cv.Sizes = append(cv.Sizes, k)
			rest = rest[k:]
		}
		vs.Chunker = append(vs.Chunker, cv)
	}

	// The scenario: two snapshots of a small tree, a file shared with a
	// second account, a file with part nodes, a device certificate.
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i + 1)
	}
	acct, _ := AccountFromSecret(secret)
	friend, _ := AccountFromSecret(bytes.Repeat([]byte{2}, 32))
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vs.Scenario.Secret = hex.EncodeToString(secret)
	vs.Scenario.Rand = "rand"
	vs.Scenario.Clock = clock.Format(time.RFC3339)
	vs.Scenario.Device = "12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5"
	vs.Scenario.Recipient = hex.EncodeToString(friend.root[:])
	rec := &recorder{memBlocks: newMem()}
	v := New(acct, rec, WithRand(bytes.NewReader(testStream("rand", 1<<16))), WithDevice(vs.Scenario.Device),
		WithClock(func() time.Time { clock = clock.Add(time.Second); return clock }), WithWorkers(1))
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	put := func(p string, data []byte, in FileInput) {
		if e, err := tr.Stat(ctx, p); err == nil {
			in.Prev = e.CID
		}
		in.Name = filepath.Base(p)
		fv, err := v.WriteFile(ctx, bytes.NewReader(data), in)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.PutFile(ctx, p, fv); err != nil {
			t.Fatal(err)
		}
	}
	put("/hello.txt", []byte("hello, peer\n"), FileInput{Mode: 0o644, Mtime: 1767225600e9})
	put("/docs/stream.bin", testStream("file", 700_000), FileInput{Mode: 0o600, Mtime: 1767225601e9})
	if err := tr.Mkdir(ctx, "/empty", false, 1767225602e9); err != nil {
		t.Fatal(err)
	}
	s1, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	put("/hello.txt", []byte("hello again\n"), FileInput{Mode: 0o644, Mtime: 1767225603e9})
	put("/shared.txt", []byte("for a friend\n"), FileInput{Mode: 0o644, Mtime: 1767225604e9, To: [][32]byte{friend.boxPub}})
	v.fanout = 2
	put("/docs/parts.bin", testStream("parts", 10*ChunkMin), FileInput{Mode: 0o644, Mtime: 1767225605e9})
	v.fanout = fanout
	s2, err := v.Commit(ctx, tr, s1)
	if err != nil {
		t.Fatal(err)
	}
	vs.Scenario.Head = s2.CID.String()

	// Describe every block, in the order it was written, with its key.
	keys := map[cid.Cid]objectVector{}
	var walkDir func(c cid.Cid, key [32]byte, what string)
	walkFile := func(c cid.Cid, key [32]byte, what string) {}
	walkDir = func(c cid.Cid, key [32]byte, what string) {
		keys[c] = objectVector{What: "folder " + what, Type: "dir", Key: hex.EncodeToString(key[:]), Label: adDir}
		d := v.storedDir(c, key, what)
		if err := d.load(ctx); err != nil {
			t.Fatal(err)
		}
		for _, e := range d.entries {
			p := filepath.Join(what, e.Name)
			if e.Kind == KindDir {
				walkDir(e.CID, e.Key, p)
			} else {
				walkFile(e.CID, e.Key, p)
			}
		}
	}
	walkFile = func(c cid.Cid, key [32]byte, what string) {
		for c.Defined() {
			if _, ok := keys[c]; ok {
				return
			}
			fv, err := v.OpenFileWithKey(ctx, c, key, what)
			if err != nil {
				t.Fatal(err)
			}
			keys[c] = objectVector{What: "version of " + what, Type: "file", Key: hex.EncodeToString(key[:]), Label: adFile}
			ls, _, err := v.leaves(ctx, fv, 0, fv.Size)
			if err != nil {
				t.Fatal(err)
			}
			var off int
			for i, l := range ls {
				keys[l.c] = objectVector{What: fmt.Sprintf("chunk %d of %s", i, what), Type: "chunk", Key: hex.EncodeToString(l.key[:]), Stream: fmt.Sprint(off, " ", l.size)}
				off += int(l.size)
			}
			var parts func(depth int, links []Link)
			parts = func(depth int, links []Link) {
				if depth == 0 {
					return
				}
				for _, l := range links {
					keys[l.Cid] = objectVector{What: "part of " + what, Type: "part", Key: hex.EncodeToString(key[:]), Label: adPart}
					var n partNode
					decodeNode(ctx, v.blocks, l.Cid, "", "part", &n)
					parts(depth-1, n.Links)
				}
			}
			parts(fv.depth, fv.links)
			if fv.Prev.Defined() {
				if key, err = v.recover(ctx, fv.Prev); err != nil {
					t.Fatal(err)
				}
			}
			c = fv.Prev
		}
	}
	for _, s := range []*Snapshot{s2, s1} {
		keys[s.CID] = objectVector{What: fmt.Sprint("snapshot ", s.Seq), Type: "snap", Key: hex.EncodeToString(acct.index[:]), Label: adSnap}
		walkDir(s.Tree, s.RootKey, "/")
	}
	for _, c := range rec.order {
		o, ok := keys[c]
		if !ok {
			t.Fatalf("block %s is in no object", c)
		}
		o.CID = c.String()
		data := rec.m[string(c.Hash())]
		if o.Type == "chunk" {
			var seed string
			switch {
			case bytes.Contains([]byte(o.What), []byte("stream.bin")):
				seed = "file"
			case bytes.Contains([]byte(o.What), []byte("parts.bin")):
				seed = "parts"
			}
			var k [32]byte
			hex.Decode(k[:], []byte(o.Key))
			plain, err := openChunk(&k, nil, data)
			if err != nil {
				t.Fatal(err)
			}
			if seed == "" {
				o.Stream, o.Plain = "", hex.EncodeToString(plain)
			} else {
				o.Stream = seed + " " + o.Stream
			}
			o.Nonce = hex.EncodeToString(zeroNonce[:])
		} else {
			var n struct {
				Body []byte `cbor:"body"`
			}
			if err := peekMode.Unmarshal(data, &n); err != nil {
				t.Fatal(err)
			}
			var k [32]byte
			hex.Decode(k[:], []byte(o.Key))
			ad := adOf(t, data, o.Label)
			plain, err := openBody(&k, ad, n.Body)
			if err != nil {
				t.Fatalf("%s: %v", o.What, err)
			}
			o.AD = hex.EncodeToString(ad)
			o.Nonce = hex.EncodeToString(n.Body[:chacha20poly1305.NonceSizeX])
			o.Plain = hex.EncodeToString(plain)
			o.Block = hex.EncodeToString(data)
		}
		vs.Scenario.Objects = append(vs.Scenario.Objects, o)
	}

	// A device certificate, signed by the account (Ed25519 signatures are
	// deterministic).
	devKey, _, err := crypto.GenerateEd25519Key(bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := peer.IDFromPrivateKey(devKey)
	cert, err := acct.CertifyDevice(dev, "laptop", 1767225600e9)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := cert.Marshal()
	cc, _ := cborPrefix.Sum(cb)
	vs.Scenario.Objects = append(vs.Scenario.Objects, objectVector{What: "certificate of device " + dev.String(), Type: "device", CID: cc.String(), Block: hex.EncodeToString(cb)})

	// Bad blocks: each must be refused with an error, never a panic.
	var dirKey string
	good := func(typ string) []byte {
		for _, o := range vs.Scenario.Objects {
			if o.Type == typ {
				b, _ := hex.DecodeString(o.Block)
				if typ == "dir" {
					dirKey = o.Key
				}
				return b
			}
		}
		t.Fatalf("no %s object", typ)
		return nil
	}
	addBad := func(what, typ string, b []byte) {
		c, _ := cborPrefix.Sum(b)
		bv := badVector{What: what, Type: typ, CID: c.String(), Block: hex.EncodeToString(b)}
		if typ == "dir" {
			bv.Key = dirKey
		}
		vs.Bad = append(vs.Bad, bv)
	}
	for _, typ := range []string{"file", "dir", "snap"} {
		b := good(typ)
		flipped := bytes.Clone(b)
		flipped[len(flipped)-5] ^= 1
		addBad(typ+" node with a flipped byte in its sealed body", typ, flipped)
		addBad(typ+" node cut short", typ, b[:len(b)-7])
		addBad(typ+" node with a byte after it", typ, append(bytes.Clone(b), 0))
	}
	var fn fileNode
	unmarshal(good("file"), &fn)
	wrongType := fn
	wrongType.Type = "snap"
	b, _ := marshal(wrongType)
	addBad("file node that says it is a snapshot", "file", b)
	extra := map[string]any{"type": fn.Type, "v": fn.V, "kid": fn.Kid, "links": fn.Links, "body": fn.Body, "zzz": 1}
	b, _ = marshal(extra)
	addBad("file node with an unknown field", "file", b)
	v2 := fn
	v2.V = 2
	b, _ = marshal(v2)
	addBad("file node of version 2", "file", b)
	addForged(t, &vs, v, tr)
	vs.Merge = append(vs.Merge, makeMergeVector(t, "criss-cross (issue 15): devices 1 and 2 both overwrite /f16.dat and merge each other's change, 2 after one more change; 1 then removes the file; merged with a third device's stale head, the file stays removed", crissCross),
		makeMergeVector(t, "a folder moved on one device, a file in it edited on the other: the edit at the moved path, once", moveAgainstEdit))
	return vs
}

// makeMergeVector records the blocks of the history build writes and
// merges the heads it returns.
func makeMergeVector(t *testing.T, what string, build func(t *testing.T, devs []*Vault) []*Snapshot) mergeVector {
	ctx := context.Background()
	rec := &recorder{memBlocks: newMem()}
	acct := testAccount(t, 1)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tick := func() time.Time { clock = clock.Add(time.Second); return clock }
	rnd := bytes.NewReader(testStream("rand", 1<<16))
	var devs []*Vault
	for _, d := range []string{"12D3KooWdevice1111111", "12D3KooWdevice2222222", "12D3KooWdevice3333333"} {
		devs = append(devs, New(acct, rec, WithDevice(d), WithClock(tick), WithRand(rnd), WithWorkers(1)))
	}
	heads := build(t, devs)
	mv := mergeVector{What: what, Secret: hex.EncodeToString(acct.root[:]), Files: map[string]string{}}
	for _, h := range heads {
		mv.Heads = append(mv.Heads, h.CID.String())
	}
	for _, c := range rec.order {
		mv.Blocks = append(mv.Blocks, badBlock{c.String(), hex.EncodeToString(rec.m[string(c.Hash())])})
	}
	m, err := devs[0].MergeAll(ctx, heads)
	if err != nil {
		t.Fatal(err)
	}
	mv.Merged = m.CID.String()
	mv.Files = readTree(t, devs[0], m.OpenTree(devs[0]))
	return mv
}

// crissCross is TestMergeCrissCross's history.
func crissCross(t *testing.T, devs []*Vault) []*Snapshot {
	ctx := context.Background()
	d1, d2, d3 := devs[0], devs[1], devs[2]
	tr, _ := d1.NewTree()
	putSmall(t, d1, tr, "/f16.dat", "base")
	s0, err := d1.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	y := edit(t, d2, s0, func(tr *Tree) { putSmall(t, d2, tr, "/f16.dat", "A") })
	x := edit(t, d1, s0, func(tr *Tree) { putSmall(t, d1, tr, "/f16.dat", "B") })
	y2 := edit(t, d2, y, func(tr *Tree) { putSmall(t, d2, tr, "/d2.txt", "more") })
	m := mustMerge(t, d1, x, y)
	n := mustMerge(t, d2, y2, x)
	m2 := edit(t, d1, m, func(tr *Tree) {
		if _, err := tr.Remove(ctx, "/f16.dat"); err != nil {
			t.Fatal(err)
		}
	})
	z := edit(t, d3, s0, func(tr *Tree) { putSmall(t, d3, tr, "/d3.txt", "stale") })
	if bases, _ := d1.MergeBases(ctx, m2, n); len(bases) != 2 {
		t.Fatalf("%d merge bases, want 2", len(bases))
	}
	return []*Snapshot{m2, n, z}
}

// moveAgainstEdit: /d moved to /e on one device, /d/f edited on the other.
func moveAgainstEdit(t *testing.T, devs []*Vault) []*Snapshot {
	ctx := context.Background()
	tr, _ := devs[0].NewTree()
	putSmall(t, devs[0], tr, "/d/f", "f0")
	putSmall(t, devs[0], tr, "/d/g", "g0")
	s0, err := devs[0].Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	a := edit(t, devs[0], s0, func(tr *Tree) {
		if err := tr.Move(ctx, "/d", "/e"); err != nil {
			t.Fatal(err)
		}
	})
	b := edit(t, devs[1], s0, func(tr *Tree) { putSmall(t, devs[1], tr, "/d/f", "f1") })
	return []*Snapshot{a, b}
}

// addForged adds versions sealed by the recipient of /shared.txt, who
// holds its file key and nothing else of the account: other content under
// the key, each of which the owner must refuse (SPEC.md, "Checks against
// forged versions").
func addForged(t *testing.T, vs *vectorSet, v *Vault, tr *Tree) {
	ctx := context.Background()
	e, err := tr.Stat(ctx, "/shared.txt")
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
	chunk := func(key [32]byte, plain string) (leaf, badBlock) {
		blk, _ := newBlock(rawPrefix, sealChunk(&key, append([]byte(plain), make([]byte, 16)...)[:len(plain)]))
		return leaf{blk.Cid(), uint64(len(plain)), key}, badBlock{blk.Cid().String(), hex.EncodeToString(blk.RawData())}
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
	version := func(what string, hash [32]byte, depth int, links []Link, parts []partEntry, extra ...badBlock) {
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
		vs.Bad = append(vs.Bad, badVector{What: "forged version of /shared.txt: " + what, Type: "file", CID: blk.Cid().String(), Block: hex.EncodeToString(blk.RawData()), Forged: true, Blocks: extra})
	}
	var other [32]byte
	copy(other[:], "a chunk key of the forger's own.")
	forged, forgedBlock := chunk(other, "forged\n")
	links, parts := entries([]leaf{forged})
	version("other content, the original content hash (refused when opened)", fv.Hash, 0, links, parts, forgedBlock)
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
	version("other content in a part node (refused when read: the parts are not the hash's)", fv.Hash, 1, []Link{{part.Cid()}}, []partEntry{{Size: forged.size}},
		badBlock{part.Cid().String(), hex.EncodeToString(part.RawData())}, forgedBlock)
}

// recover derives the key of a version this account wrote.
func (v *Vault) recover(ctx context.Context, c cid.Cid) ([32]byte, error) {
	fv, err := v.OpenFile(ctx, c, "")
	if err != nil {
		return [32]byte{}, err
	}
	return fv.Key, nil
}

// TestVectors checks this implementation against testdata/vectors: it
// makes every vector again and compares, then checks each object the way
// a second implementation would, from the vectors alone.
func TestVectors(t *testing.T) {
	got := makeVectors(t)
	js, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(vectorsFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsFile, append(js, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("%v (make them with -update)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), js) {
		t.Fatal("this implementation no longer makes testdata/vectors/vault.json; if the format changed on purpose, run with -update and say so in SPEC.md")
	}
	var vs vectorSet
	if err := json.Unmarshal(want, &vs); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, o := range vs.Scenario.Objects {
		checkObject(t, o)
		kinds[o.Type] = true
	}
	for _, k := range []string{"chunk", "file", "part", "dir", "snap", "device"} {
		if !kinds[k] {
			t.Errorf("the vectors have no %s object; make the scenario write one", k)
		}
	}
	// Reading the head with the secret alone yields every file.
	secret, _ := hex.DecodeString(vs.Scenario.Secret)
	acct, _ := AccountFromSecret(secret)
	mem := newMem()
	for _, o := range vs.Scenario.Objects {
		b := objectBytes(t, o)
		c, _ := cid.Decode(o.CID)
		blk, _ := blocks.NewBlockWithCid(b, c)
		mem.Put(context.Background(), []blocks.Block{blk})
	}
	ctx := context.Background()
	v := New(acct, mem)
	head, _ := cid.Decode(vs.Scenario.Head)
	s, err := v.OpenSnapshot(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	tr := s.OpenTree(v)
	for p, want := range map[string][]byte{"/hello.txt": []byte("hello again\n"), "/docs/stream.bin": testStream("file", 700_000), "/docs/parts.bin": testStream("parts", 10*ChunkMin)} {
		e, err := tr.Stat(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		fv, err := v.OpenFile(ctx, e.CID, p)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := v.ReadRange(ctx, fv, &out, 0, -1); err != nil || !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("%s read back wrong: %v", p, err)
		}
	}
	friendSecret, _ := hex.DecodeString(vs.Scenario.Recipient)
	friend, _ := AccountFromSecret(friendSecret)
	e, _ := tr.Stat(ctx, "/shared.txt")
	if _, err := New(friend, mem).OpenFileShared(ctx, e.CID, "/shared.txt"); err != nil {
		t.Fatalf("recipient cannot open the shared file: %v", err)
	}
	for _, bad := range vs.Bad {
		checkBad(t, acct, bad)
	}
	for _, mv := range vs.Merge {
		checkMerge(t, mv)
	}
}

// checkMerge merges a vector's heads from its blocks alone, in every
// order, and wants its snapshot and files.
func checkMerge(t *testing.T, mv mergeVector) {
	t.Helper()
	ctx := context.Background()
	secret, _ := hex.DecodeString(mv.Secret)
	acct, _ := AccountFromSecret(secret)
	var heads []*Snapshot
	for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}} {
		mem := newMem()
		for _, b := range mv.Blocks {
			data, _ := hex.DecodeString(b.Block)
			c, _ := cid.Decode(b.CID)
			blk, err := blocks.NewBlockWithCid(data, c)
			if err != nil {
				t.Fatalf("%s: %v", mv.What, err)
			}
			mem.Put(ctx, []blocks.Block{blk})
		}
		v := New(acct, mem)
		heads = heads[:0]
		for _, i := range order {
			if i >= len(mv.Heads) {
				continue
			}
			c, _ := cid.Decode(mv.Heads[i])
			h, err := v.OpenSnapshot(ctx, c)
			if err != nil {
				t.Fatalf("%s: %v", mv.What, err)
			}
			heads = append(heads, h)
		}
		m, err := v.MergeAll(ctx, heads)
		if err != nil {
			t.Fatalf("%s: %v", mv.What, err)
		}
		if m.CID.String() != mv.Merged {
			t.Fatalf("%s: merged to %s, want %s", mv.What, m.CID, mv.Merged)
		}
		got := readTree(t, v, m.OpenTree(v))
		if fmt.Sprint(got) != fmt.Sprint(mv.Files) {
			t.Fatalf("%s: merge holds %v, want %v", mv.What, got, mv.Files)
		}
	}
}

// objectBytes returns an object's block: given, or sealed from its
// plaintext with its key and the zero nonce (chunks).
func objectBytes(t *testing.T, o objectVector) []byte {
	t.Helper()
	if o.Block != "" {
		b, _ := hex.DecodeString(o.Block)
		return b
	}
	plain := plainOf(t, o)
	var k [32]byte
	hex.Decode(k[:], []byte(o.Key))
	return sealChunk(&k, append(plain, make([]byte, 16)...)[:len(plain)])
}

func plainOf(t *testing.T, o objectVector) []byte {
	t.Helper()
	if o.Stream == "" {
		b, _ := hex.DecodeString(o.Plain)
		return b
	}
	var seed string
	var off, n int
	if _, err := fmt.Sscan(o.Stream, &seed, &off, &n); err != nil {
		t.Fatal(err)
	}
	return testStream(seed, off+n)[off:]
}

// checkObject does what a second implementation does with a vector: seal
// the plaintext with the key, nonce and associated data, compare with the
// block, and hash the block to the CID.
func checkObject(t *testing.T, o objectVector) {
	t.Helper()
	b := objectBytes(t, o)
	c, err := cid.Decode(o.CID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Prefix().Sum(b); !got.Equals(c) {
		t.Fatalf("%s: block does not hash to %s", o.What, o.CID)
	}
	if o.Type == "chunk" || o.Type == "device" {
		return
	}
	var k [32]byte
	hex.Decode(k[:], []byte(o.Key))
	nonce, _ := hex.DecodeString(o.Nonce)
	plain, _ := hex.DecodeString(o.Plain)
	aead, _ := chacha20poly1305.NewX(k[:])
	ad := adOf(t, b, o.Label)
	if hex.EncodeToString(ad) != o.AD {
		t.Fatalf("%s: associated data differs", o.What)
	}
	sealed := aead.Seal(append([]byte(nil), nonce...), nonce, plain, ad)
	var n struct {
		Body []byte `cbor:"body"`
	}
	if err := peekMode.Unmarshal(b, &n); err != nil || !bytes.Equal(n.Body, sealed) {
		t.Fatalf("%s: sealing the plaintext does not give the block's body", o.What)
	}
}

// checkBad opens a bad block as its type and wants a DamagedError.
func checkBad(t *testing.T, acct *Account, bad badVector) {
	t.Helper()
	ctx := context.Background()
	b, _ := hex.DecodeString(bad.Block)
	c, _ := cid.Decode(bad.CID)
	mem := newMem()
	blk, _ := blocks.NewBlockWithCid(b, c)
	mem.Put(ctx, []blocks.Block{blk})
	for _, x := range bad.Blocks {
		xb, _ := hex.DecodeString(x.Block)
		xc, _ := cid.Decode(x.CID)
		if got, _ := xc.Prefix().Sum(xb); !got.Equals(xc) {
			t.Fatalf("%s: a block does not hash to %s", bad.What, x.CID)
		}
		xblk, _ := blocks.NewBlockWithCid(xb, xc)
		mem.Put(ctx, []blocks.Block{xblk})
	}
	v := New(acct, mem)
	var err error
	switch bad.Type {
	case "file":
		var fv *FileVersion
		if fv, err = v.OpenFile(ctx, c, bad.What); err == nil {
			err = v.ReadRange(ctx, fv, io.Discard, 0, -1)
		}
	case "snap":
		_, err = v.OpenSnapshot(ctx, c)
	case "dir":
		var k [32]byte
		hex.Decode(k[:], []byte(bad.Key))
		err = v.storedDir(c, k, bad.What).load(ctx)
	}
	var de *DamagedError
	if !errors.As(err, &de) {
		t.Fatalf("%s: got %v, want a damaged-block error", bad.What, err)
	}
	if bad.Forged != errors.Is(err, ErrForged) {
		t.Fatalf("%s: got %v, want forged = %v", bad.What, err, bad.Forged)
	}
}

// adOf computes a block's associated data as a second implementation
// would: decode it generically, empty its body, encode it canonically,
// hash.
func adOf(t *testing.T, block []byte, label string) []byte {
	t.Helper()
	var m map[string]any
	if err := peekMode.Unmarshal(block, &m); err != nil {
		t.Fatal(err)
	}
	m["body"] = []byte{}
	b, err := encMode.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return append([]byte(label+"\x00"), h[:]...)
}

// TestDAGCBOR checks every node of the vectors against go-ipld-prime's
// DAG-CBOR codec: it decodes, and encodes back to the same bytes.
func TestDAGCBOR(t *testing.T) {
	vs := loadVectors(t)
	for _, o := range vs.Scenario.Objects {
		if o.Block == "" {
			continue
		}
		data, _ := hex.DecodeString(o.Block)
		nb := basicnode.Prototype.Any.NewBuilder()
		if err := dagcbor.Decode(nb, bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: not DAG-CBOR: %v", o.What, err)
		}
		var out bytes.Buffer
		if err := dagcbor.Encode(nb.Build(), &out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("%s: not in DAG-CBOR's canonical form", o.What)
		}
	}
}

// loadVectors reads testdata/vectors/vault.json.
func loadVectors(tb testing.TB) vectorSet {
	tb.Helper()
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		tb.Fatal(err)
	}
	var vs vectorSet
	if err := json.Unmarshal(b, &vs); err != nil {
		tb.Fatal(err)
	}
	return vs
}
