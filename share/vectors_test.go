package share_test

// links.json: the texts of links (SPEC.md section 17.1) for the file
// version and the following share of testdata/vectors/share.json, and a
// password-locked link with every value on the way. Regenerate with
//
//	go test ./share -run TestVectors -update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/peer-cloud/peer/share"
	"github.com/peer-cloud/peer/vault"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors/links.json from this implementation")

var vectorsDir = filepath.Join("..", "testdata", "vectors")

const linksNote = "Test vectors of SPEC.md (section \"Test vectors\"), links of section 17.1 for the file and share of share.json. Regenerate with: go test ./share -run TestVectors -update"

type linkVectors struct {
	Note      string       `json:"note"`
	Secret    string       `json:"secret"` // the account's (share.json's)
	Account   string       `json:"account"`
	Version   linkVector   `json:"version"`   // share.json's file version
	Following linkVector   `json:"following"` // share.json's share
	Locked    lockedVector `json:"locked"`    // the version link, locked
}

type linkVector struct {
	Public string `json:"public"` // a version's CID or an account ID
	Key    string `json:"key"`    // hex: the file key or the share secret
	Text   string `json:"text"`
	Web    string `json:"web"` // the same link as a web UI opens it
}

type lockedVector struct {
	Public   string `json:"public"`
	Key      string `json:"key"`
	Password string `json:"password"`
	Salt     string `json:"salt"`
	Wrap     string `json:"wrap"`   // argon2id(password, salt, t=3, m=65536 KiB, p=1, 32 bytes)
	Sealed   string `json:"sealed"` // ChaCha20-Poly1305(wrap, 12 zero bytes, key, ad "peer://s/")
	Text     string `json:"text"`
}

// testStream is vault's vector stream: SHA-256("peer/v1 test stream" ||
// seed || i) for i = 0, 1, ... (8 bytes big-endian), cut to n bytes.
func testStream(seed string, n int) []byte {
	var out []byte
	for i := uint64(0); len(out) < n; i++ {
		var ib [8]byte
		binary.BigEndian.PutUint64(ib[:], i)
		h := sha256.Sum256(append(append([]byte("peer/v1 test stream"), seed...), ib[:]...))
		out = append(out, h[:]...)
	}
	return out[:n]
}

// vectorsFileVersion writes share.json's file version: the account
// 01 02 ... 20, the clock at 2026-01-01T00:00:00Z, device
// 12D3KooWdevice1111111.
func vectorsFileVersion(t *testing.T) (*vault.Account, *vault.FileVersion) {
	t.Helper()
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i + 1)
	}
	acct, err := vault.AccountFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := vault.New(acct, realBlocks(t), vault.WithClock(func() time.Time { return clock }), vault.WithDevice("12D3KooWdevice1111111"), vault.WithWorkers(1))
	fv, err := v.WriteFile(context.Background(), strings.NewReader("the report\n"), vault.FileInput{Name: "report.pdf", Mode: 0o644, Mtime: 1767225600e9})
	if err != nil {
		t.Fatal(err)
	}
	return acct, fv
}

func webForm(text string) string {
	return "http://127.0.0.1:5001/s/" + strings.TrimPrefix(text, share.Scheme)
}

func makeLinkVectors(t *testing.T) linkVectors {
	acct, fv := vectorsFileVersion(t)
	lv := linkVectors{Note: linksNote, Secret: hex.EncodeToString(acct.Secret()), Account: acct.ID()}
	version := share.Link{Target: fv.CID, Key: fv.Key}
	lv.Version = linkVector{Public: fv.CID.String(), Key: hex.EncodeToString(fv.Key[:]), Text: version.String(), Web: webForm(version.String())}
	var secret [32]byte
	copy(secret[:], testStream("share secret", 32))
	following := share.Link{Account: acct.PeerID(), Key: secret}
	lv.Following = linkVector{Public: acct.ID(), Key: hex.EncodeToString(secret[:]), Text: following.String(), Web: webForm(following.String())}
	salt := testStream("link salt", 16)
	locked := version
	if err := locked.Lock(bytes.NewReader(salt), "correct horse"); err != nil {
		t.Fatal(err)
	}
	wrap := argon2.IDKey([]byte("correct horse"), salt, 3, 64<<10, 1, 32)
	lv.Locked = lockedVector{Public: fv.CID.String(), Key: hex.EncodeToString(fv.Key[:]), Password: "correct horse", Salt: hex.EncodeToString(salt), Wrap: hex.EncodeToString(wrap), Sealed: hex.EncodeToString(locked.Wrapped.Sealed[:]), Text: locked.String()}
	return lv
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("%.20s...: %v", s, err)
	}
	return b
}

// checkLinkVectors checks links.json from its data alone, and against
// share.json.
func checkLinkVectors(t *testing.T, lv linkVectors) {
	b64 := base64.RawURLEncoding
	for name, l := range map[string]linkVector{"version": lv.Version, "following": lv.Following} {
		if want := "peer://s/" + l.Public + "#k." + b64.EncodeToString(mustHex(t, l.Key)); l.Text != want {
			t.Fatalf("%s: text %q, want %q", name, l.Text, want)
		}
		for _, text := range []string{l.Text, l.Web} {
			p, err := share.Parse(text)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if hex.EncodeToString(p.Key[:]) != l.Key || p.Follows() != (name == "following") {
				t.Fatalf("%s: Parse(%q) = %+v", name, text, p)
			}
			if pub := strings.TrimPrefix(strings.SplitN(p.String(), "#", 2)[0], share.Scheme); pub != l.Public {
				t.Fatalf("%s: public part %s, want %s", name, pub, l.Public)
			}
		}
	}
	acct, err := vault.AccountFromSecret(mustHex(t, lv.Secret))
	if err != nil || acct.ID() != lv.Account || lv.Following.Public != lv.Account {
		t.Fatalf("the account ID is not the secret's: %v", err)
	}

	k := lv.Locked
	wrap := argon2.IDKey([]byte(k.Password), mustHex(t, k.Salt), 3, 64<<10, 1, 32)
	if hex.EncodeToString(wrap) != k.Wrap {
		t.Fatal("wrap is not argon2id(password, salt, 3, 64 MiB, 1)")
	}
	aead, _ := chacha20poly1305.New(wrap)
	sealed := aead.Seal(nil, make([]byte, 12), mustHex(t, k.Key), []byte("peer://s/"))
	if hex.EncodeToString(sealed) != k.Sealed {
		t.Fatal("sealed is not the key sealed under wrap")
	}
	if want := "peer://s/" + k.Public + "#p." + b64.EncodeToString(mustHex(t, k.Salt)) + "." + b64.EncodeToString(sealed); k.Text != want {
		t.Fatalf("locked text %q, want %q", k.Text, want)
	}
	p, err := share.Parse(k.Text)
	if err != nil || !p.Locked() {
		t.Fatalf("Parse of the locked link: %+v, %v", p, err)
	}
	if err := p.Unlock(k.Password); err != nil || hex.EncodeToString(p.Key[:]) != k.Key {
		t.Fatalf("Unlock: %x, %v", p.Key, err)
	}

	// The file and share are share.json's.
	b, err := os.ReadFile(filepath.Join(vectorsDir, "share.json"))
	if err != nil {
		t.Skipf("share.json: %v", err)
	}
	var sv struct {
		File struct {
			CID string `json:"cid"`
			Key string `json:"key"`
		} `json:"file"`
		Secret string `json:"secret"`
		Shares []struct {
			Secret string `json:"share_secret"`
		} `json:"shares"`
	}
	if err := json.Unmarshal(b, &sv); err != nil {
		t.Fatal(err)
	}
	if sv.File.CID != lv.Version.Public || sv.File.Key != lv.Version.Key || sv.Secret != lv.Secret || len(sv.Shares) == 0 || sv.Shares[0].Secret != lv.Following.Key {
		t.Fatal("links.json is not of share.json's file and share")
	}
}

func TestVectorsLinks(t *testing.T) {
	lv := makeLinkVectors(t)
	js, err := json.MarshalIndent(lv, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, '\n')
	p := filepath.Join(vectorsDir, "links.json")
	if *update {
		if err := os.WriteFile(p, js, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (make the vectors with -update)", err)
	}
	if !bytes.Equal(stored, js) {
		t.Errorf("this implementation no longer makes testdata/vectors/links.json; if the format changed on purpose, run with -update and say so in SPEC.md")
	}
	var got linkVectors
	dec := json.NewDecoder(bytes.NewReader(stored))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	checkLinkVectors(t, got)
}
