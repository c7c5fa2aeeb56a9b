package vault

// share.json: share nodes of following shares (SPEC.md section 17.2),
// one giving a file version and one ended, with every value derived on
// the way. The links' texts are in links.json, made by the share
// package's TestVectorsLinks (it imports this package).

import (
	"bytes"
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"golang.org/x/crypto/chacha20poly1305"
)

type shareVectors struct {
	Note     string        `json:"note"`
	Secret   string        `json:"secret"`    // the account's (vault.json's scenario)
	IndexKey string        `json:"index_key"` // seals owner parts
	Clock    string        `json:"clock"`     // the clock the file version read
	Device   string        `json:"device"`
	File     fileVector    `json:"file"`
	Blocks   []blockVector `json:"blocks"` // the file version's: its chunk and file node
	Shares   []shareCase   `json:"shares"`
}

// fileVector is the file entry a share gives.
type fileVector struct {
	Path    string `json:"path"`
	Content string `json:"content"`
	CID     string `json:"cid"`
	Key     string `json:"key"`
	Name    string `json:"name"`
	Size    uint64 `json:"size"`
	Mtime   int64  `json:"mtime"`
	Mode    uint32 `json:"mode"`
}

type shareCase struct {
	What       string `json:"what"`
	Secret     string `json:"share_secret"`
	Path       string `json:"path"`
	Made       int64  `json:"made"`
	Expires    int64  `json:"expires"`
	Ended      int64  `json:"ended"`
	GivesFile  bool   `json:"gives_file"`
	Tag        string `json:"tag"`
	ShareKey   string `json:"share_key"`
	OwnerAD    string `json:"owner_ad"`
	OwnerPlain string `json:"owner_plain"` // DAG-CBOR {secret, path, made, expires, ended}
	OwnerNonce string `json:"owner_nonce"`
	BodyAD     string `json:"body_ad"`
	BodyPlain  string `json:"body_plain"`
	BodyNonce  string `json:"body_nonce"`
	CID        string `json:"cid"`
	Block      string `json:"block"`
}

// The inputs of share.json.
var (
	shareSecret    = func() (s [32]byte) { copy(s[:], testStream("share secret", 32)); return s }()
	sharePath      = "/docs/report.pdf"
	shareMade      = time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC).UnixNano()
	shareExpires   = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	shareEnded     = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC).UnixNano()
	shareContent   = "the report\n"
	shareFileMtime = int64(1767225600e9)
)

func makeShareVectors(t *testing.T) shareVectors {
	ctx := context.Background()
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i + 1)
	}
	acct, err := AccountFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	sv := shareVectors{Note: regenerate, Secret: hex.EncodeToString(secret), IndexKey: hex.EncodeToString(acct.index[:]), Clock: scenarioStart.Format(time.RFC3339), Device: mergeDevices[0]}
	rec := newRecorder()
	v := New(acct, rec, WithRand(bytes.NewReader(testStream("share", 1<<10))), WithClock(func() time.Time { return scenarioStart }), WithDevice(sv.Device), WithWorkers(1))
	fv, err := v.WriteFile(ctx, bytes.NewReader([]byte(shareContent)), FileInput{Name: "report.pdf", Mode: 0o644, Mtime: shareFileMtime})
	if err != nil {
		t.Fatal(err)
	}
	sv.Blocks = rec.since(0)
	file := Entry{Name: fv.Name, Kind: KindFile, CID: fv.CID, Key: fv.Key, Size: fv.Size, Mtime: fv.Mtime, Mode: fv.Mode}
	sv.File = fileVector{Path: sharePath, Content: shareContent, CID: fv.CID.String(), Key: hex.EncodeToString(fv.Key[:]), Name: fv.Name, Size: fv.Size, Mtime: fv.Mtime, Mode: fv.Mode}
	for _, s := range []struct {
		what string
		s    FollowShare
	}{
		{"a live share of /docs/report.pdf, giving its file", FollowShare{Secret: shareSecret, Path: sharePath, Made: shareMade, Expires: shareExpires}},
		{"the same share ended (the file given to WriteShare is left out)", FollowShare{Secret: shareSecret, Path: sharePath, Made: shareMade, Expires: shareExpires, Ended: shareEnded}},
	} {
		c, err := v.WriteShare(ctx, s.s, &file)
		if err != nil {
			t.Fatal(err)
		}
		block := rec.m[string(c.Hash())]
		var n shareNode
		if err := unmarshal(block, &n); err != nil {
			t.Fatal(err)
		}
		tag := ShareTag(s.s.Secret)
		key := shareKey(s.s.Secret)
		ownerPlain, err := openBody(&acct.index, ownerAD(tag[:]), n.Owner)
		if err != nil {
			t.Fatal(err)
		}
		bodyAD, err := nodeAD(adShare, n)
		if err != nil {
			t.Fatal(err)
		}
		bodyPlain, err := openBody(&key, bodyAD, n.Body)
		if err != nil {
			t.Fatal(err)
		}
		sv.Shares = append(sv.Shares, shareCase{
			What: s.what, Secret: hex.EncodeToString(s.s.Secret[:]), Path: s.s.Path, Made: s.s.Made, Expires: s.s.Expires, Ended: s.s.Ended,
			GivesFile: len(n.Links) == 1,
			Tag:       hex.EncodeToString(tag[:]), ShareKey: hex.EncodeToString(key[:]),
			OwnerAD: hex.EncodeToString(ownerAD(tag[:])), OwnerPlain: hex.EncodeToString(ownerPlain), OwnerNonce: hex.EncodeToString(n.Owner[:chacha20poly1305.NonceSizeX]),
			BodyAD: hex.EncodeToString(bodyAD), BodyPlain: hex.EncodeToString(bodyPlain), BodyNonce: hex.EncodeToString(n.Body[:chacha20poly1305.NonceSizeX]),
			CID: c.String(), Block: hex.EncodeToString(block),
		})
	}
	return sv
}

// checkShareVectors checks share.json from its data alone: the derived
// values, both seals, and what the readers make of the nodes.
func checkShareVectors(t *testing.T, sv shareVectors) {
	ctx := context.Background()
	acct, err := AccountFromSecret(mustHex(t, sv.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(derive(acct.root[:], labelIndex)) != sv.IndexKey {
		t.Fatal("the index key is not the secret's")
	}
	mem := storeOf(t, sv.Blocks)
	for _, sc := range sv.Shares {
		put(t, mem, sc.CID, mustHex(t, sc.Block))
	}
	seal := func(what string, key [32]byte, ad, plain, nonce []byte, want []byte) {
		t.Helper()
		if n := blake3Keyed(key[:], append(append([]byte(labelNonce), ad...), plain...)); !bytes.Equal(n[:24], nonce) {
			t.Fatalf("%s: the nonce is not the derived one", what)
		}
		aead, _ := chacha20poly1305.NewX(key[:])
		if got := aead.Seal(bytes.Clone(nonce), nonce, plain, ad); !bytes.Equal(got, want) {
			t.Fatalf("%s: sealing the plaintext does not give the node's bytes", what)
		}
	}
	v := New(acct, mem)
	for _, sc := range sv.Shares {
		secret := key32(t, sc.Secret)
		if d := derive(secret[:], "peer/v1 share tag"); hex.EncodeToString(d[:16]) != sc.Tag {
			t.Fatalf("%s: the tag is not HKDF(secret, \"peer/v1 share tag\")[:16]", sc.What)
		}
		if hex.EncodeToString(derive(secret[:], "peer/v1 share key")) != sc.ShareKey {
			t.Fatalf("%s: the share key is not HKDF(secret, \"peer/v1 share key\")", sc.What)
		}
		if want := append([]byte("peer/v1 share owner\x00"), mustHex(t, sc.Tag)...); !bytes.Equal(want, mustHex(t, sc.OwnerAD)) {
			t.Fatalf("%s: owner_ad", sc.What)
		}
		block := mustHex(t, sc.Block)
		if !bytes.Equal(adOf(t, block, "peer/v1 share"), mustHex(t, sc.BodyAD)) {
			t.Fatalf("%s: body_ad is not the label and the hash of the node without its body", sc.What)
		}
		var n struct {
			Type  string `cbor:"type"`
			Tag   []byte `cbor:"tag"`
			Links []Link `cbor:"links"`
			Owner []byte `cbor:"owner"`
			Body  []byte `cbor:"body"`
		}
		if err := peekMode.Unmarshal(block, &n); err != nil {
			t.Fatal(err)
		}
		if n.Type != "share" || hex.EncodeToString(n.Tag) != sc.Tag || (len(n.Links) == 1) != sc.GivesFile {
			t.Fatalf("%s: type %q, tag %x, %d links", sc.What, n.Type, n.Tag, len(n.Links))
		}
		seal(sc.What+", owner part", acct.index, mustHex(t, sc.OwnerAD), mustHex(t, sc.OwnerPlain), mustHex(t, sc.OwnerNonce), n.Owner)
		seal(sc.What+", body", key32(t, sc.ShareKey), mustHex(t, sc.BodyAD), mustHex(t, sc.BodyPlain), mustHex(t, sc.BodyNonce), n.Body)

		c := mustCIDOf(t, sc.CID)
		want := FollowShare{Secret: secret, Path: sc.Path, Made: sc.Made, Expires: sc.Expires, Ended: sc.Ended}
		if o, err := v.ShareOwner(ctx, c); err != nil || o != want {
			t.Fatalf("%s: ShareOwner = %+v, %v", sc.What, o, err)
		}
		var o shareOwner
		if err := unmarshal(mustHex(t, sc.OwnerPlain), &o); err != nil || !bytes.Equal(o.Secret, secret[:]) || o.Path != sc.Path {
			t.Fatalf("%s: owner_plain: %+v, %v", sc.What, o, err)
		}
		sf, err := ReadShare(ctx, mem, c, secret)
		if err != nil {
			t.Fatal(err)
		}
		if sf.Ended != sc.Ended || sf.Expires != sc.Expires || sf.CID.Defined() != sc.GivesFile {
			t.Fatalf("%s: ReadShare = %+v", sc.What, sf)
		}
		if !sc.GivesFile {
			continue
		}
		if sf.CID.String() != sv.File.CID || hex.EncodeToString(sf.Key[:]) != sv.File.Key || sf.Name != sv.File.Name || sf.Size != sv.File.Size || sf.Mtime != sv.File.Mtime || sf.Mode != sv.File.Mode {
			t.Fatalf("%s: ReadShare = %+v, want the file %+v", sc.What, sf, sv.File)
		}
		// A link's holder, of another account, reads the file with the
		// key the share gives.
		reader := New(testAccount(t, 9), mem)
		fv, err := reader.OpenFileWithKey(ctx, sf.CID, sf.Key, sf.Name)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := reader.ReadRange(ctx, fv, &b, 0, -1); err != nil || b.String() != sv.File.Content {
			t.Fatalf("%s: the shared file reads %q, %v", sc.What, b.String(), err)
		}
	}
}

// TestVectorsShare makes share.json again and compares, then checks the
// stored file (go test ./vault -run TestVectors -update rewrites it).
func TestVectorsShare(t *testing.T) {
	var sv shareVectors
	decodeJSON(t, writeOrCompare(t, "share.json", makeShareVectors(t)), &sv)
	checkShareVectors(t, sv)
	// Every node is canonical DAG-CBOR to go-ipld-prime too.
	all := append([]blockVector(nil), sv.Blocks...)
	for _, sc := range sv.Shares {
		all = append(all, blockVector{sc.CID, sc.Block})
	}
	for _, o := range all {
		if mustCIDOf(t, o.CID).Prefix().Codec != cid.DagCBOR {
			continue
		}
		data := mustHex(t, o.Block)
		nb := basicnode.Prototype.Any.NewBuilder()
		if err := dagcbor.Decode(nb, bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: not DAG-CBOR: %v", o.CID, err)
		}
		var out bytes.Buffer
		if err := dagcbor.Encode(nb.Build(), &out); err != nil || !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("%s: not in DAG-CBOR's canonical form (%v)", o.CID, err)
		}
	}
}
