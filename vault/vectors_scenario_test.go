package vault

// vault.json: keys, the chunker, and a scenario that writes every node
// kind (SPEC.md, "Test vectors").

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/curve25519"
	"lukechampine.com/blake3"
)

type vaultVectors struct {
	Note     string          `json:"note"`
	Keys     []keyVector     `json:"keys"`
	Chunker  []chunkerVector `json:"chunker"`
	Scenario scenarioVectors `json:"scenario"`
}

type keyVector struct {
	Secret        string `json:"secret"`
	Phrase        string `json:"phrase"`
	Account       string `json:"account"`       // the account ID, base36 CIDv1 (libp2p-key)
	AccountBytes  string `json:"account_bytes"` // its peer ID bytes: 00 24 08 01 12 20 || signing_public
	SigningSeed   string `json:"signing_seed"`
	SigningPublic string `json:"signing_public"`
	BoxPrivate    string `json:"box_private"`
	BoxPublic     string `json:"box_public"`
	ContentSecret string `json:"content_secret"`
	IndexKey      string `json:"index_key"`
	ChunkSecret   string `json:"chunk_secret"`
	FileSecret    string `json:"file_secret"`
}

type chunkerVector struct {
	Stream string `json:"stream"` // seed of testStream
	Length int    `json:"length"`
	Sizes  []int  `json:"sizes"`
}

// scenarioVectors is a vault written step by step from fixed inputs.
type scenarioVectors struct {
	Secret     string         `json:"secret"`
	Rand       string         `json:"rand"`  // seed of the stream folder keys and ephemeral keys come from
	Clock      string         `json:"clock"` // the clock before its first reading; each reading adds one second
	DeviceSeed string         `json:"device_seed"`
	Device     string         `json:"device"` // the peer ID of device_seed's Ed25519 key, base58btc
	Recipients []string       `json:"recipient_secrets"`
	Steps      []stepVector   `json:"steps"`
	Head       string         `json:"head"`
	Root       string         `json:"root"` // the account root naming head
	Objects    []objectVector `json:"objects"`
}

// stepVector is one operation of the scenario and what it took of the
// rand stream and the clock.
type stepVector struct {
	Do    string   `json:"do"`
	Rand  string   `json:"rand,omitempty"`  // "offset length" of the rand stream it read
	Clock []string `json:"clock,omitempty"` // the clock readings it took, in order
}

// objectVector is one block of the scenario with what made it: the key it
// is sealed with, the associated data, the nonce and the plaintext. Chunk
// plaintexts longer than 1 KiB are given as a range of a test stream.
type objectVector struct {
	What   string `json:"what"`
	Type   string `json:"type"` // chunk, file, part, dir, snap, device, root
	CID    string `json:"cid"`
	Key    string `json:"key,omitempty"`
	Label  string `json:"label,omitempty"`
	AD     string `json:"ad,omitempty"` // hex: label, 0x00, SHA-256 of the block with an empty body
	Nonce  string `json:"nonce,omitempty"`
	Plain  string `json:"plain,omitempty"`
	Stream string `json:"plain_stream,omitempty"` // "seed offset length"
	Block  string `json:"block,omitempty"`        // omitted for chunks: the CID fixes the bytes
}

// scenario is vault.json as made, with what the other vector files
// build on.
type scenario struct {
	vs      vaultVectors
	acct    *Account
	v       *Vault
	tr      *Tree // snapshot 2's
	s1, s2  *Snapshot
	friends []*Account
	cert    []byte
	root    cid.Cid
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// deviceOf returns the device key of a 32-byte Ed25519 seed and its
// peer ID.
func deviceOf(t testing.TB, seed []byte) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, id
}

// scenarioStart is the clock of the scenario before its first reading.
var scenarioStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func makeScenario(t *testing.T) *scenario {
	ctx := context.Background()
	sc := &scenario{}
	vs := &sc.vs
	vs.Note = regenerate
	for _, seed := range []byte{0, 1, 0xff} {
		a, _ := AccountFromSecret(bytes.Repeat([]byte{seed}, 32))
		pub := a.signing.Public().(ed25519.PublicKey)
		vs.Keys = append(vs.Keys, keyVector{
			Secret: hex.EncodeToString(a.root[:]), Phrase: a.Phrase(), Account: a.ID(), AccountBytes: hex.EncodeToString([]byte(a.PeerID())),
			SigningSeed: hex.EncodeToString(a.signing.Seed()), SigningPublic: hex.EncodeToString(pub),
			BoxPrivate: hex.EncodeToString(a.box[:]), BoxPublic: hex.EncodeToString(a.boxPub[:]),
			ContentSecret: hex.EncodeToString(derive(a.root[:], labelContent)), IndexKey: hex.EncodeToString(a.index[:]),
			ChunkSecret: hex.EncodeToString(a.chunk[:]), FileSecret: hex.EncodeToString(a.file[:]),
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

	// The scenario: two snapshots of a small tree (an empty file, an
	// empty folder, a file shared with two other accounts, a file with
	// part nodes), the device's certificate and the account root.
	s := &vs.Scenario
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i + 1)
	}
	acct, _ := AccountFromSecret(secret)
	sc.acct = acct
	for _, b := range []byte{2, 3} {
		f, _ := AccountFromSecret(bytes.Repeat([]byte{b}, 32))
		sc.friends = append(sc.friends, f)
		s.Recipients = append(s.Recipients, hex.EncodeToString(f.root[:]))
	}
	devSeed := bytes.Repeat([]byte{7}, 32)
	_, dev := deviceOf(t, devSeed)
	s.Secret = hex.EncodeToString(secret)
	s.Rand = "rand"
	s.Clock = scenarioStart.Format(time.RFC3339)
	s.DeviceSeed = hex.EncodeToString(devSeed)
	s.Device = dev.String()
	rnd := &countingReader{r: bytes.NewReader(testStream(s.Rand, 1<<16))}
	clock := scenarioStart
	var readings []string
	tick := func() time.Time {
		clock = clock.Add(time.Second)
		readings = append(readings, clock.Format(time.RFC3339))
		return clock
	}
	read := 0
	step := func(do string) {
		st := stepVector{Do: do, Clock: readings}
		if rnd.n > read {
			st.Rand = fmt.Sprint(read, " ", rnd.n-read)
		}
		read, readings = rnd.n, nil
		s.Steps = append(s.Steps, st)
	}
	rec := newRecorder()
	v := New(acct, rec, WithRand(rnd), WithDevice(s.Device), WithClock(tick), WithWorkers(1))
	sc.v = v
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	sc.tr = tr
	step("make a tree (its root folder's key)")
	seeds := map[string]string{}
	write := func(p string, content string, data []byte, in FileInput, how string) {
		e, err := tr.Stat(ctx, p)
		if err == nil {
			in.Prev = e.CID
			how += ", prev: the version at " + p
		}
		in.Name = path.Base(p)
		fv, err := v.WriteFile(ctx, bytes.NewReader(data), in)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.PutFile(ctx, p, fv); err != nil {
			t.Fatal(err)
		}
		step(fmt.Sprintf("write %s: %s, mode %O, mtime %d%s", p, content, in.Mode, in.Mtime, how))
	}
	small := func(s string) (string, []byte) { return fmt.Sprintf("%q", s), []byte(s) }
	stream := func(seed string, n int) (string, []byte) {
		return fmt.Sprintf("%d bytes of test stream %q", n, seed), testStream(seed, n)
	}
	desc, data := small("hello, peer\n")
	write("/hello.txt", desc, data, FileInput{Mode: 0o644, Mtime: 1767225600e9}, "")
	seeds["/docs/stream.bin"] = "file"
	desc, data = stream("file", 700_000)
	write("/docs/stream.bin", desc, data, FileInput{Mode: 0o600, Mtime: 1767225601e9}, " (making /docs)")
	desc, data = small("")
	write("/docs/nothing.txt", desc, data, FileInput{Mode: 0o644, Mtime: 1767225602e9}, "")
	if err := tr.Mkdir(ctx, "/empty", false, 1767225603e9); err != nil {
		t.Fatal(err)
	}
	step("make the folder /empty, mtime 1767225603000000000")
	s1, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	step("commit snapshot 1 (no parents)")
	desc, data = small("hello again\n")
	write("/hello.txt", desc, data, FileInput{Mode: 0o644, Mtime: 1767225604e9}, "")
	desc, data = small("for a friend\n")
	write("/shared.txt", desc, data, FileInput{Mode: 0o644, Mtime: 1767225605e9, To: [][32]byte{sc.friends[0].boxPub, sc.friends[1].boxPub}}, ", to: recipients 1 and 2 in that order")
	v.fanout = 2
	seeds["/docs/parts.bin"] = "parts"
	desc, data = stream("parts", 10*ChunkMin)
	write("/docs/parts.bin", desc, data, FileInput{Mode: 0o644, Mtime: 1767225606e9}, ", 2 links per file or part node")
	v.fanout = fanout
	s2, err := v.Commit(ctx, tr, s1)
	if err != nil {
		t.Fatal(err)
	}
	step("commit snapshot 2 (parent: snapshot 1)")
	sc.s1, sc.s2 = s1, s2
	s.Head = s2.CID.String()

	// The device's certificate (Ed25519 signatures are deterministic) and
	// the account root that names the head.
	c, err := acct.CertifyDevice(dev, "laptop", 1767225600e9)
	if err != nil {
		t.Fatal(err)
	}
	sc.cert, _ = c.Marshal()
	step(fmt.Sprintf("certify device %s, name \"laptop\", created 1767225600000000000", dev))
	if sc.root, err = v.WriteRoot(ctx, Root{Devices: [][]byte{sc.cert}, Box: acct.BoxPublic(), Head: s2.CID}); err != nil {
		t.Fatal(err)
	}
	step("write the account root: that certificate, the box key, head snapshot 2")
	s.Root = sc.root.String()

	// Describe every block, in the order it was written, with its key.
	keys := map[cid.Cid]objectVector{sc.root: {What: "account root", Type: "root"}}
	var walkDir func(c cid.Cid, key [32]byte, what string)
	var walkFile func(c cid.Cid, key [32]byte, what string)
	walkDir = func(c cid.Cid, key [32]byte, what string) {
		keys[c] = objectVector{What: "folder " + what, Type: "dir", Key: hex.EncodeToString(key[:]), Label: adDir}
		d := v.storedDir(c, key, what)
		if err := d.load(ctx); err != nil {
			t.Fatal(err)
		}
		d.own()
		for _, e := range d.entries {
			p := path.Join(what, e.Name)
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
				o := objectVector{What: fmt.Sprintf("chunk %d of %s", i, what), Type: "chunk", Key: hex.EncodeToString(l.key[:])}
				if seed := seeds[what]; seed != "" {
					o.Stream = fmt.Sprint(seed, " ", off, " ", l.size)
				}
				keys[l.c] = o
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
					if err := decodeNode(ctx, v.blocks, l.Cid, "", "part", &n); err != nil {
						t.Fatal(err)
					}
					parts(depth-1, n.Links)
				}
			}
			parts(fv.depth, fv.links)
			if fv.Prev.Defined() {
				prev, err := v.OpenFile(ctx, fv.Prev, what)
				if err != nil {
					t.Fatal(err)
				}
				key = prev.Key
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
		if c == sc.root {
			cc, _ := cborPrefix.Sum(sc.cert)
			s.Objects = append(s.Objects, objectVector{What: "certificate of device " + dev.String() + " (not a block of its own: the account root holds its bytes)", Type: "device", CID: cc.String(), Block: hex.EncodeToString(sc.cert)})
		}
		o.CID = c.String()
		data := rec.m[string(c.Hash())]
		switch o.Type {
		case "chunk":
			k := key32(t, o.Key)
			plain, err := openChunk(&k, nil, data)
			if err != nil {
				t.Fatal(err)
			}
			if o.Stream == "" {
				o.Plain = hex.EncodeToString(plain)
			}
			o.Nonce = hex.EncodeToString(zeroNonce[:])
		case "root":
			o.Block = hex.EncodeToString(data)
		default:
			var n struct {
				Body []byte `cbor:"body"`
			}
			if err := peekMode.Unmarshal(data, &n); err != nil {
				t.Fatal(err)
			}
			k := key32(t, o.Key)
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
		s.Objects = append(s.Objects, o)
	}
	return sc
}

// checkVault checks vault.json from its data alone, with the real
// decoders.
func checkVault(t *testing.T, vs vaultVectors) {
	ctx := context.Background()
	for _, k := range vs.Keys {
		a, err := AccountFromPhrase(k.Phrase)
		if err != nil || hex.EncodeToString(a.Secret()) != k.Secret {
			t.Fatalf("phrase %q does not give secret %s: %v", k.Phrase, k.Secret, err)
		}
		id, err := ParseAccountID(k.Account)
		if err != nil || hex.EncodeToString([]byte(id)) != k.AccountBytes {
			t.Fatalf("account %s is not the peer ID %s: %v", k.Account, k.AccountBytes, err)
		}
		if k.AccountBytes != "002408011220"+k.SigningPublic || !strings.HasPrefix(k.Account, "k51") {
			t.Fatalf("account %s is not 00 24 08 01 12 20 || its signing key", k.Account)
		}
		pub := ed25519.NewKeyFromSeed(mustHex(t, k.SigningSeed)).Public().(ed25519.PublicKey)
		boxPub, _ := curve25519.X25519(mustHex(t, k.BoxPrivate), curve25519.Basepoint)
		content := mustHex(t, k.ContentSecret)
		root := mustHex(t, k.Secret)
		for _, c := range [][2]string{
			{k.SigningSeed, hex.EncodeToString(derive(root, labelSigning))},
			{k.SigningPublic, hex.EncodeToString(pub)},
			{k.BoxPrivate, hex.EncodeToString(derive(root, labelBox))},
			{k.BoxPublic, hex.EncodeToString(boxPub)},
			{k.ContentSecret, hex.EncodeToString(derive(root, labelContent))},
			{k.IndexKey, hex.EncodeToString(derive(root, labelIndex))},
			{k.ChunkSecret, hex.EncodeToString(derive(content, labelChunk))},
			{k.FileSecret, hex.EncodeToString(derive(content, labelFile))},
		} {
			if c[0] != c[1] {
				t.Fatalf("secret %s: derived %s, vector says %s", k.Secret, c[1], c[0])
			}
		}
	}
	for _, cv := range vs.Chunker {
		var got []int
		for rest := testStream(cv.Stream, cv.Length); len(rest) > 0; {
			k := cut(rest)
			got = append(got, k)
			rest = rest[k:]
		}
		if fmt.Sprint(got) != fmt.Sprint(cv.Sizes) {
			t.Fatalf("stream %q of %d bytes cuts into %v, want %v", cv.Stream, cv.Length, got, cv.Sizes)
		}
	}

	s := vs.Scenario
	kinds := map[string]bool{}
	mem := newMem()
	acct, _ := AccountFromSecret(mustHex(t, s.Secret))
	for _, o := range s.Objects {
		checkObject(t, acct, o)
		kinds[o.Type] = true
		put(t, mem, o.CID, objectBytes(t, o))
	}
	for _, k := range []string{"chunk", "file", "part", "dir", "snap", "device", "root"} {
		if !kinds[k] {
			t.Errorf("the vectors have no %s object; make the scenario write one", k)
		}
	}
	_, dev := deviceOf(t, mustHex(t, s.DeviceSeed))
	if dev.String() != s.Device || !strings.HasPrefix(s.Device, "12D3KooW") {
		t.Fatalf("device seed gives %s, not %s", dev, s.Device)
	}

	// The account root names the head, the account's box key and the
	// certificate of the scenario's device.
	r, err := ReadRoot(ctx, mem, mustCIDOf(t, s.Root))
	if err != nil {
		t.Fatal(err)
	}
	if r.Head.String() != s.Head || r.Box != acct.BoxPublic() || len(r.Devices) != 1 {
		t.Fatalf("account root: head %s, box %x, %d devices", r.Head, r.Box, len(r.Devices))
	}
	cert, err := ParseDeviceCert(r.Devices[0])
	if err != nil || cert.Device != dev || cert.Account != acct.PeerID() {
		t.Fatalf("certificate: %v (device %s, account %s)", err, cert.Device, cert.Account)
	}

	// Reading the head with the secret alone yields every file.
	v := New(acct, mem)
	head, err := v.OpenSnapshot(ctx, r.Head)
	if err != nil {
		t.Fatal(err)
	}
	tr := head.OpenTree(v)
	read := func(v *Vault, fv *FileVersion) []byte {
		var out bytes.Buffer
		if err := v.ReadRange(ctx, fv, &out, 0, -1); err != nil {
			t.Fatalf("%s: %v", fv.Name, err)
		}
		return out.Bytes()
	}
	for p, want := range map[string][]byte{
		"/hello.txt": []byte("hello again\n"), "/docs/stream.bin": testStream("file", 700_000), "/docs/nothing.txt": {},
		"/docs/parts.bin": testStream("parts", 10*ChunkMin), "/shared.txt": []byte("for a friend\n"),
	} {
		e, err := tr.Stat(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		fv, err := v.OpenFile(ctx, e.CID, p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(read(v, fv), want) || e.Size != fv.Size || e.Mode != fv.Mode || e.Mtime != fv.Mtime || e.Key != fv.Key {
			t.Fatalf("%s read back wrong, or its entry is not its version's", p)
		}
	}
	if es, err := tr.List(ctx, "/empty"); err != nil || len(es) != 0 {
		t.Fatalf("/empty holds %v: %v", es, err)
	}
	e, _ := tr.Stat(ctx, "/shared.txt")
	for _, sec := range s.Recipients {
		friend, _ := AccountFromSecret(mustHex(t, sec))
		fv, err := New(friend, mem).OpenFileShared(ctx, e.CID, "/shared.txt")
		if err != nil || string(read(v, fv)) != "for a friend\n" {
			t.Fatalf("a recipient cannot read the shared file: %v", err)
		}
	}

	// The steps say where the folder keys and ephemeral keys came from.
	rnd := testStream(s.Rand, 1<<10)
	at := func(i int) []byte { return rnd[32*i : 32*i+32] }
	docs, _ := tr.Stat(ctx, "/docs")
	empty, _ := tr.Stat(ctx, "/empty")
	if !bytes.Equal(head.RootKey[:], at(0)) || !bytes.Equal(docs.Key[:], at(1)) || !bytes.Equal(empty.Key[:], at(2)) {
		t.Fatal("the folder keys are not the rand stream's first three 32-byte pieces")
	}
	var n fileNode
	if err := decodeNode(ctx, mem, e.CID, "", "file", &n); err != nil || len(n.To) != 2 {
		t.Fatalf("shared file: %v", err)
	}
	for i, st := range n.To {
		epk, _ := curve25519.X25519(at(3+i), curve25519.Basepoint)
		if !bytes.Equal(st.Epk, epk) {
			t.Fatalf("stanza %d's ephemeral key is not the rand stream's piece %d", i, 3+i)
		}
	}
	var times []string
	for _, st := range s.Steps {
		times = append(times, st.Clock...)
	}
	for i, tm := range times {
		if want := scenarioStart.Add(time.Duration(i+1) * time.Second).Format(time.RFC3339); tm != want {
			t.Fatalf("clock reading %d is %s, want %s", i, tm, want)
		}
	}
	if head.Time != scenarioStart.Add(time.Duration(len(times))*time.Second).UnixNano() {
		t.Fatal("the head is not the clock's last reading")
	}
}

// objectBytes returns an object's block: given, or sealed from its
// plaintext with its key and the zero nonce (chunks).
func objectBytes(t *testing.T, o objectVector) []byte {
	t.Helper()
	if o.Block != "" {
		return mustHex(t, o.Block)
	}
	plain := plainOf(t, o)
	k := key32(t, o.Key)
	return sealChunk(&k, append(plain, make([]byte, 16)...)[:len(plain)])
}

func plainOf(t *testing.T, o objectVector) []byte {
	t.Helper()
	if o.Stream == "" {
		return mustHex(t, o.Plain)
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
func checkObject(t *testing.T, acct *Account, o objectVector) {
	t.Helper()
	b := objectBytes(t, o)
	c := mustCIDOf(t, o.CID)
	if got, _ := c.Prefix().Sum(b); !got.Equals(c) {
		t.Fatalf("%s: block does not hash to %s", o.What, o.CID)
	}
	switch o.Type {
	case "chunk":
		k := key32(t, o.Key)
		if ck := blake3Keyed(acct.chunk[:], plainOf(t, o)); ck != k {
			t.Fatalf("%s: its key is not the keyed hash of its plaintext", o.What)
		}
		return
	case "device", "root":
		return
	}
	k := key32(t, o.Key)
	nonce := mustHex(t, o.Nonce)
	plain := mustHex(t, o.Plain)
	ad := adOf(t, b, o.Label)
	if hex.EncodeToString(ad) != o.AD {
		t.Fatalf("%s: associated data differs", o.What)
	}
	if want := blake3Keyed(k[:], append(append([]byte(labelNonce), ad...), plain...)); !bytes.Equal(nonce, want[:24]) {
		t.Fatalf("%s: the nonce is not the derived one", o.What)
	}
	aead, _ := chacha20poly1305.NewX(k[:])
	sealed := aead.Seal(bytes.Clone(nonce), nonce, plain, ad)
	var n struct {
		Body []byte `cbor:"body"`
	}
	if err := peekMode.Unmarshal(b, &n); err != nil || !bytes.Equal(n.Body, sealed) {
		t.Fatalf("%s: sealing the plaintext does not give the block's body", o.What)
	}
}

// blake3Keyed is BLAKE3-keyed(key, msg), 32 bytes out.
func blake3Keyed(key, msg []byte) (out [32]byte) {
	h := blake3.New(32, key)
	h.Write(msg)
	h.Sum(out[:0])
	return out
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
