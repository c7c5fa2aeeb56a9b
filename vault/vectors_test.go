package vault

// The test vectors of SPEC.md ("Test vectors"), one file per subject in
// testdata/vectors: vault.json (keys, chunker, a scenario of every node
// kind), bad.json (blocks a reader refuses, each with its reason),
// merge.json (histories and the snapshot merging them must give) and
// shards.json (a folder that shards and collapses). TestVectors makes
// every file again from its documented inputs and wants the same bytes,
// then reads the stored file back with the real decoders, as a second
// implementation would. Regenerate with
//
//	go test ./vault -run TestVectors -update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	"github.com/ipld/go-ipld-prime/node/basicnode"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors from this implementation")

// vectorsDir holds SPEC.md's test vectors.
var vectorsDir = filepath.Join("..", "testdata", "vectors")

// regenerate is the note at the top of every vector file.
const regenerate = "Test vectors of SPEC.md (section \"Test vectors\"). Regenerate with: go test ./vault -run TestVectors -update"

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

// blockVector is a block and its CID.
type blockVector struct {
	CID   string `json:"cid"`
	Block string `json:"block"`
}

// recorder keeps blocks in memory and remembers the order they came in.
type recorder struct {
	*memBlocks
	order []cid.Cid
}

func newRecorder() *recorder { return &recorder{memBlocks: newMem()} }

func (r *recorder) Put(ctx context.Context, bs []blocks.Block) error {
	for _, b := range bs {
		if _, ok := r.m[string(b.Cid().Hash())]; !ok {
			r.order = append(r.order, b.Cid())
		}
	}
	return r.memBlocks.Put(ctx, bs)
}

// since returns the blocks recorded after the first n, sorted by their
// CIDs' bytes.
func (r *recorder) since(n int) []blockVector {
	cs := slices.Clone(r.order[n:])
	slices.SortFunc(cs, func(a, b cid.Cid) int { return bytes.Compare(a.Bytes(), b.Bytes()) })
	var out []blockVector
	for _, c := range cs {
		out = append(out, blockVector{c.String(), hex.EncodeToString(r.m[string(c.Hash())])})
	}
	return out
}

// storeOf puts blocks into a fresh memory store, checking that each
// hashes to its CID.
func storeOf(t *testing.T, bs []blockVector) *memBlocks {
	t.Helper()
	mem := newMem()
	for _, b := range bs {
		put(t, mem, b.CID, mustHex(t, b.Block))
	}
	return mem
}

// put stores data as the block c, which it must hash to.
func put(t *testing.T, bs Blocks, c string, data []byte) {
	t.Helper()
	k, err := cid.Decode(c)
	if err != nil {
		t.Fatalf("%s: %v", c, err)
	}
	if got, _ := k.Prefix().Sum(data); !got.Equals(k) {
		t.Fatalf("block does not hash to %s", c)
	}
	blk, _ := blocks.NewBlockWithCid(data, k)
	if err := bs.Put(context.Background(), []blocks.Block{blk}); err != nil {
		t.Fatal(err)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("%.20s...: %v", s, err)
	}
	return b
}

func mustCIDOf(t *testing.T, s string) cid.Cid {
	t.Helper()
	c, err := cid.Decode(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return c
}

func key32(t *testing.T, s string) (k [32]byte) {
	t.Helper()
	if b := mustHex(t, s); len(b) != 32 || copy(k[:], b) != 32 {
		t.Fatalf("key %s is not 32 bytes", s)
	}
	return k
}

// writeOrCompare writes v as the vector file name with -update, and wants
// the stored file to hold exactly what this implementation makes. It
// returns the stored file, to be checked from its bytes alone.
func writeOrCompare(t *testing.T, name string, v any) []byte {
	t.Helper()
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, '\n')
	p := filepath.Join(vectorsDir, name)
	if *update {
		if err := os.MkdirAll(vectorsDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, js, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (make the vectors with -update)", err)
	}
	if !bytes.Equal(want, js) {
		t.Errorf("this implementation no longer makes testdata/vectors/%s; if the format changed on purpose, run with -update and say so in SPEC.md", name)
	}
	return want
}

// decodeJSON reads a stored vector file into v.
func decodeJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestVectors makes every vector file again and compares, then checks
// each stored file the way a second implementation would, from its data
// alone.
func TestVectors(t *testing.T) {
	sc := makeScenario(t)
	t.Run("vault.json", func(t *testing.T) {
		var vs vaultVectors
		decodeJSON(t, writeOrCompare(t, "vault.json", sc.vs), &vs)
		checkVault(t, vs)
	})
	t.Run("bad.json", func(t *testing.T) {
		var bv badVectors
		decodeJSON(t, writeOrCompare(t, "bad.json", makeBad(t, sc)), &bv)
		checkBadVectors(t, bv)
	})
	t.Run("merge.json", func(t *testing.T) {
		var mv mergeVectors
		decodeJSON(t, writeOrCompare(t, "merge.json", makeMerges(t)), &mv)
		checkMerges(t, mv)
	})
	t.Run("shards.json", func(t *testing.T) {
		var sv shardVectors
		decodeJSON(t, writeOrCompare(t, "shards.json", makeShards(t)), &sv)
		checkShards(t, sv)
	})
}

// vectorSet is what the fuzzers take their seeds from: the scenario's
// objects and the bad blocks.
type vectorSet struct {
	Scenario scenarioVectors
	Bad      []badCase
}

// loadVectors reads vault.json and bad.json.
func loadVectors(tb testing.TB) vectorSet {
	tb.Helper()
	var vs vectorSet
	var vv vaultVectors
	var bv badVectors
	for name, v := range map[string]any{"vault.json": &vv, "bad.json": &bv} {
		b, err := os.ReadFile(filepath.Join(vectorsDir, name))
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			tb.Fatal(err)
		}
	}
	vs.Scenario, vs.Bad = vv.Scenario, bv.Cases
	return vs
}

// TestDAGCBOR checks every node of the vectors against go-ipld-prime's
// DAG-CBOR codec: it decodes, and encodes back to the same bytes.
func TestDAGCBOR(t *testing.T) {
	var all []blockVector
	var vv vaultVectors
	var mv mergeVectors
	var sv shardVectors
	for name, v := range map[string]any{"vault.json": &vv, "merge.json": &mv, "shards.json": &sv} {
		b, err := os.ReadFile(filepath.Join(vectorsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		decodeJSON(t, b, v)
	}
	for _, o := range vv.Scenario.Objects {
		all = append(all, blockVector{o.CID, o.Block})
	}
	for _, m := range mv.Cases {
		all = append(append(all, m.Blocks...), m.MergedBlocks...)
	}
	for _, o := range sv.Objects {
		all = append(all, blockVector{o.CID, o.Block})
	}
	n := 0
	for _, o := range all {
		if o.Block == "" || mustCIDOf(t, o.CID).Prefix().Codec != cid.DagCBOR {
			continue
		}
		n++
		data := mustHex(t, o.Block)
		nb := basicnode.Prototype.Any.NewBuilder()
		if err := dagcbor.Decode(nb, bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: not DAG-CBOR: %v", o.CID, err)
		}
		var out bytes.Buffer
		if err := dagcbor.Encode(nb.Build(), &out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("%s: not in DAG-CBOR's canonical form", o.CID)
		}
	}
	if n < 100 {
		t.Fatalf("only %d nodes checked", n)
	}
}
