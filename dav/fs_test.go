package dav

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"golang.org/x/net/webdav"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

// testVault is an account on a real Badger store in a temporary repo.
type testVault struct {
	r     *repo.Repo
	store *blockstore.Store
	acct  *account.Account
}

func openVault(t *testing.T, dir string) *testVault {
	t.Helper()
	ctx := context.Background()
	var r *repo.Repo
	var err error
	if _, serr := os.Stat(dir + "/" + repo.ConfigFile); serr == nil {
		r, err = repo.Open(dir)
	} else {
		cfg := repo.DefaultConfig()
		cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		cfg.Network.MDNS = false
		cfg.API.Listen = "127.0.0.1:0"
		a, aerr := vault.NewAccount(rand.Reader)
		if aerr != nil {
			t.Fatal(aerr)
		}
		r, err = repo.Init(dir, cfg, a.Secret())
	}
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	store, err := blockstore.Open(ctx, r.BlocksDir(), blockstore.ProfileDefault, log)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := account.Open(ctx, r, store, log)
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	tv := &testVault{r: r, store: store, acct: acct}
	t.Cleanup(func() { tv.close(t) })
	return tv
}

func (tv *testVault) close(t *testing.T) {
	if tv.store != nil {
		if err := tv.store.Close(); err != nil {
			t.Error(err)
		}
		tv.store = nil
	}
}

func (tv *testVault) seq() uint64 {
	if h := tv.acct.Head(); h != nil {
		return h.Seq
	}
	return 0
}

// write puts data at p through the FileSystem, as a WebDAV PUT does.
func write(t *testing.T, fs webdav.FileSystem, p string, data []byte) os.FileInfo {
	t.Helper()
	f, err := fs.OpenFile(context.Background(), p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return fi
}

func read(t *testing.T, fs webdav.FileSystem, p string) []byte {
	t.Helper()
	f, err := fs.OpenFile(context.Background(), p, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func etag(t *testing.T, fi os.FileInfo) string {
	t.Helper()
	s, err := fi.(webdav.ETager).ETag(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFSWriteReadRanges: a file written through the FS reads back whole
// and at random ranges after seeks, its ETag is its version's CID, and
// each write is one snapshot.
func TestFSWriteReadRanges(t *testing.T) {
	ctx := context.Background()
	tv := openVault(t, t.TempDir())
	fs := NewFS(tv.acct, tv.store, nil)
	if err := fs.Mkdir(ctx, "/docs", 0o777); err != nil {
		t.Fatal(err)
	}
	data := random(9<<20 + 123) // several chunks
	before := tv.seq()
	fi := write(t, fs, "/docs/big.bin", data)
	if got := tv.seq(); got != before+1 {
		t.Fatalf("a write made %d snapshots; want 1", got-before)
	}
	tree, err := tv.acct.ReadTree()
	if err != nil {
		t.Fatal(err)
	}
	e, err := tree.Stat(ctx, "/docs/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if want := `"` + e.CID.String() + `"`; etag(t, fi) != want {
		t.Fatalf("ETag %s; want the version CID %s", etag(t, fi), want)
	}
	st, err := fs.Stat(ctx, "/docs/big.bin")
	if err != nil || st.Size() != int64(len(data)) || etag(t, st) != etag(t, fi) {
		t.Fatalf("stat %v, %v", st, err)
	}
	if got := read(t, fs, "/docs/big.bin"); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
	}
	f, err := fs.OpenFile(ctx, "/docs/big.bin", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := mrand.New(mrand.NewPCG(1, 2))
	for range 40 {
		off := rng.Int64N(int64(len(data)))
		n := rng.Int64N(300 << 10)
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, n)
		got, err := io.ReadFull(f, buf)
		want := data[off:min(off+n, int64(len(data)))]
		if !bytes.Equal(buf[:got], want) || (err != nil && got != len(want)) {
			t.Fatalf("range at %d of %d bytes: got %d bytes (%v) that differ", off, n, got, err)
		}
	}
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("seek to end: %d, %v", end, err)
	}
	if n, err := f.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read at end: %d, %v; want EOF", n, err)
	}
	// Rewriting makes a version that follows the old one.
	write(t, fs, "/docs/big.bin", []byte("small now"))
	if got := read(t, fs, "/docs/big.bin"); string(got) != "small now" {
		t.Fatalf("after rewrite: %q", got)
	}
	vs, err := tv.acct.Vault().Versions(ctx, tv.acct.Head().CID, "/docs/big.bin")
	if err != nil || len(vs) != 2 || !vs[0].Prev.Equals(e.CID) {
		t.Fatalf("versions %d, %v; want 2, the newest following the first", len(vs), err)
	}
	// No parent: the FS says not-exist (WebDAV answers 409).
	if _, err := fs.OpenFile(ctx, "/nope/x", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0); err == nil || !errors.Is(err, errNoParent) {
		t.Fatalf("write without a parent: %v", err)
	}
	if _, err := fs.Stat(ctx, "/nope"); !os.IsNotExist(err) {
		t.Fatalf("stat of nothing: %v; want not-exist", err)
	}
	if err := fs.Mkdir(ctx, "/docs", 0); !os.IsExist(err) {
		t.Fatalf("mkdir again: %v; want exist", err)
	}
	if err := fs.Mkdir(ctx, "/a/b", 0); !os.IsNotExist(err) {
		t.Fatalf("mkdir without parent: %v; want not-exist", err)
	}
}

// TestFSCopyMoveShareVersions: COPY of a file is the same version, of a
// folder a new folder holding the same versions; MOVE keeps the version;
// each is one snapshot; dead properties follow.
func TestFSCopyMoveShareVersions(t *testing.T) {
	ctx := context.Background()
	tv := openVault(t, t.TempDir())
	fs := NewFS(tv.acct, tv.store, nil)
	for _, d := range []string{"/a", "/a/sub", "/b"} {
		if err := fs.Mkdir(ctx, d, 0); err != nil {
			t.Fatal(err)
		}
	}
	f1 := write(t, fs, "/a/one.txt", []byte("one"))
	f2 := write(t, fs, "/a/sub/two.txt", []byte("two"))
	patchProp(t, fs, "/a/sub/two.txt", "color", "blue")
	patchProp(t, fs, "/a", "color", "red")

	before := tv.seq()
	if created, err := fs.Copy(ctx, "/a", "/c", true, false); err != nil || !created {
		t.Fatalf("copy: %v, %v", created, err)
	}
	if tv.seq() != before+1 {
		t.Fatalf("a folder copy made %d snapshots; want 1", tv.seq()-before)
	}
	c1, _ := fs.Stat(ctx, "/c/one.txt")
	c2, _ := fs.Stat(ctx, "/c/sub/two.txt")
	if c1 == nil || c2 == nil || etag(t, c1) != etag(t, f1) || etag(t, c2) != etag(t, f2) {
		t.Fatal("the copied files are not the same versions")
	}
	tree, _ := tv.acct.ReadTree()
	ea, _ := tree.Stat(ctx, "/a")
	ec, _ := tree.Stat(ctx, "/c")
	if ea.Key == ec.Key {
		t.Fatal("the folder copy kept the original's key: merges could not tell them apart")
	}
	if got := propOf(t, fs, "/c/sub/two.txt", "color"); got != "blue" {
		t.Fatalf("copied property %q", got)
	}
	if got := propOf(t, fs, "/c", "color"); got != "red" {
		t.Fatalf("copied folder property %q", got)
	}
	// Depth 0: the folder alone.
	if _, err := fs.Copy(ctx, "/a", "/shallow", true, true); err != nil {
		t.Fatal(err)
	}
	if es := list(t, fs, "/shallow"); len(es) != 0 {
		t.Fatalf("shallow copy holds %v", es)
	}
	// Overwrite F onto an existing name fails; T replaces.
	if _, err := fs.Copy(ctx, "/a/one.txt", "/a/sub/two.txt", false, false); !errors.Is(err, errDestExists) {
		t.Fatalf("copy onto a file with overwrite F: %v", err)
	}
	if created, err := fs.Copy(ctx, "/a/one.txt", "/a/sub/two.txt", true, false); err != nil || created {
		t.Fatalf("copy over a file: %v, %v", created, err)
	}
	if got := read(t, fs, "/a/sub/two.txt"); string(got) != "one" {
		t.Fatalf("overwritten copy reads %q", got)
	}
	if got := propOf(t, fs, "/a/sub/two.txt", "color"); got != "" {
		t.Fatalf("the overwritten file kept property %q", got)
	}
	// Move: one snapshot, same version, props along.
	patchProp(t, fs, "/a/one.txt", "color", "green")
	before = tv.seq()
	if created, err := fs.Move(ctx, "/a/one.txt", "/b/moved.txt", false); err != nil || !created {
		t.Fatalf("move: %v, %v", created, err)
	}
	if tv.seq() != before+1 {
		t.Fatalf("a move made %d snapshots; want 1", tv.seq()-before)
	}
	m, err := fs.Stat(ctx, "/b/moved.txt")
	if err != nil || etag(t, m) != etag(t, f1) {
		t.Fatalf("moved file: %v", err)
	}
	if _, err := fs.Stat(ctx, "/a/one.txt"); !os.IsNotExist(err) {
		t.Fatalf("the source is still there: %v", err)
	}
	if got := propOf(t, fs, "/b/moved.txt", "color"); got != "green" {
		t.Fatalf("moved property %q", got)
	}
	if got := propOf(t, fs, "/a/one.txt", "color"); got != "" {
		t.Fatalf("the property stayed at the old name: %q", got)
	}
	if _, err := fs.Move(ctx, "/a", "/a/sub/x", true); !errors.Is(err, errIntoItself) {
		t.Fatalf("move into itself: %v", err)
	}
	if _, err := fs.Move(ctx, "/b/moved.txt", "/none/x", true); !errors.Is(err, errNoParent) {
		t.Fatalf("move to a missing folder: %v", err)
	}
	// Remove takes the properties below it too.
	if err := fs.RemoveAll(ctx, "/c"); err != nil {
		t.Fatal(err)
	}
	if got := propOf(t, fs, "/c/sub/two.txt", "color"); got != "" {
		t.Fatalf("a removed file's property is left: %q", got)
	}
	if err := fs.RemoveAll(ctx, "/c"); err != nil {
		t.Fatalf("removing nothing: %v", err)
	}
}

// TestFSPropsSurviveRestart: dead properties are in the datastore.
func TestFSPropsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tv := openVault(t, dir)
	fs := NewFS(tv.acct, tv.store, nil)
	write(t, fs, "/f", []byte("x"))
	patchProp(t, fs, "/f", "note", "kept <b>across</b> restarts")
	patchProp(t, fs, "/", "note", "root")
	tv.close(t)

	tv = openVault(t, dir)
	fs = NewFS(tv.acct, tv.store, nil)
	if got := propOf(t, fs, "/f", "note"); got != "kept <b>across</b> restarts" {
		t.Fatalf("after a restart the property is %q", got)
	}
	if got := propOf(t, fs, "/", "note"); got != "root" {
		t.Fatalf("after a restart the root's property is %q", got)
	}
	f, err := fs.OpenFile(ctx, "/f", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.(webdav.DeadPropsHolder).Patch([]webdav.Proppatch{{Remove: true, Props: []webdav.Property{{XMLName: xml.Name{Space: "urn:t", Local: "note"}}}}}); err != nil {
		t.Fatal(err)
	}
	if got := propOf(t, fs, "/f", "note"); got != "" {
		t.Fatalf("removed property reads %q", got)
	}
}

func patchProp(t *testing.T, fs webdav.FileSystem, p, name, value string) {
	t.Helper()
	f, err := fs.OpenFile(context.Background(), p, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inner, _ := xml.Marshal(struct {
		XMLName xml.Name `xml:"v"`
		S       string   `xml:",chardata"`
	}{S: value})
	if _, err := f.(webdav.DeadPropsHolder).Patch([]webdav.Proppatch{{Props: []webdav.Property{{XMLName: xml.Name{Space: "urn:t", Local: name}, InnerXML: inner}}}}); err != nil {
		t.Fatal(err)
	}
}

func propOf(t *testing.T, fs webdav.FileSystem, p, name string) string {
	t.Helper()
	f, err := fs.OpenFile(context.Background(), p, os.O_RDONLY, 0)
	if os.IsNotExist(err) {
		// Properties of a path not in the tree are read from the store
		// all the same: a leftover is what the caller looks for.
		m, err := fs.(*FS).props.deadProps(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		return innerText(m[xml.Name{Space: "urn:t", Local: name}].InnerXML)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := f.(webdav.DeadPropsHolder).DeadProps()
	if err != nil {
		t.Fatal(err)
	}
	return innerText(m[xml.Name{Space: "urn:t", Local: name}].InnerXML)
}

func innerText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var v struct {
		S string `xml:",chardata"`
	}
	xml.Unmarshal(b, &v)
	return v.S
}

func list(t *testing.T, fs webdav.FileSystem, p string) []string {
	t.Helper()
	f, err := fs.OpenFile(context.Background(), p, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fis, err := f.Readdir(-1)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fi := range fis {
		out = append(out, fi.Name())
	}
	return out
}

// TestFinderFilesStayOutOfTheVault: .DS_Store and ._NAME are taken and
// served back, but held in memory: no snapshot, no entry in the tree.
func TestFinderFilesStayOutOfTheVault(t *testing.T) {
	ctx := context.Background()
	tv := openVault(t, t.TempDir())
	h := New(Config{Account: tv.acct, Store: tv.store, Prefix: "/dav"})
	fs := h.FileSystem()
	if err := fs.Mkdir(ctx, "/photos", 0); err != nil {
		t.Fatal(err)
	}
	before := tv.seq()
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, p := range []string{"/photos/.DS_Store", "/photos/._cat.jpg"} {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/dav"+p, strings.NewReader("finder's"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %d", p, resp.StatusCode)
		}
		if got := read(t, fs, p); string(got) != "finder's" {
			t.Fatalf("%s reads %q", p, got)
		}
	}
	write(t, fs, "/photos/._dog.jpg", []byte("through the FS"))
	if tv.seq() != before {
		t.Fatalf("Finder's files made %d snapshots", tv.seq()-before)
	}
	tree, _ := tv.acct.ReadTree()
	if es, _ := tree.List(ctx, "/photos"); len(es) != 0 {
		t.Fatalf("the vault folder holds %v", es)
	}
	if names := list(t, fs, "/photos"); len(names) != 0 {
		t.Fatalf("the folder lists %v", names)
	}
	if _, err := fs.Move(ctx, "/photos/._cat.jpg", "/photos/._kitten.jpg", false); err != nil {
		t.Fatal(err)
	}
	if got := read(t, fs, "/photos/._kitten.jpg"); string(got) != "finder's" {
		t.Fatalf("moved file reads %q", got)
	}
	if _, err := fs.Stat(ctx, "/photos/._cat.jpg"); !os.IsNotExist(err) {
		t.Fatalf("the moved file's old name: %v", err)
	}
	if err := fs.RemoveAll(ctx, "/photos"); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(ctx, "/photos/.DS_Store"); !os.IsNotExist(err) {
		t.Fatalf("a removed folder's .DS_Store: %v", err)
	}
	if _, err := fs.OpenFile(ctx, "/nowhere/._x", os.O_WRONLY|os.O_CREATE, 0); !errors.Is(err, errNoParent) {
		t.Fatalf("a Finder file in a missing folder: %v", err)
	}
}
