package daemon_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/repo"
)

func randomFile(t *testing.T, dir, name string, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	io.ReadFull(rand.Reader, data)
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o640); err != nil {
		t.Fatal(err)
	}
	return data
}

func cat(t *testing.T, c *api.Client, p, version string, off, n int64) []byte {
	t.Helper()
	resp, err := c.VaultCat(context.Background(), p, version, off, n)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lsNames(t *testing.T, c *api.Client, p string) []string {
	t.Helper()
	es, err := c.VaultLs(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

// TestVaultCommands runs the vault through the API the CLI uses: local and
// tar adds, listing, ranges, folders as tar, moves, removal, history,
// restore, restart and GC.
func TestVaultCommands(t *testing.T) {
	ctx := context.Background()
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	secret := bytes.Repeat([]byte{9}, 32)
	rdir := t.TempDir()
	r, err := repo.Init(rdir, cfg, secret)
	if err != nil {
		t.Fatal(err)
	}
	d, c := startRepo(t, r)
	src := t.TempDir()
	big := randomFile(t, src, "big.bin", 5<<20+17)
	a := randomFile(t, src, "docs/a.txt", 100)
	randomFile(t, src, "docs/sub/b.txt", 200)
	if err := os.Symlink("a.txt", filepath.Join(src, "docs", "link")); err != nil {
		t.Fatal(err)
	}

	res, err := c.VaultAdd(ctx, "/", []string{filepath.Join(src, "big.bin"), filepath.Join(src, "docs")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 3 || res.Dirs != 2 || len(res.Skipped) != 1 || res.Snapshot == "" {
		t.Fatalf("add result %+v", res)
	}
	if got := lsNames(t, c, "/"); !slices.Equal(got, []string{"big.bin", "docs"}) {
		t.Fatalf("ls / = %v", got)
	}
	if got := cat(t, c, "/big.bin", "", 0, -1); !bytes.Equal(got, big) {
		t.Fatal("cat /big.bin differs")
	}
	if got := cat(t, c, "/big.bin", "", 3<<20, 100); !bytes.Equal(got, big[3<<20:3<<20+100]) {
		t.Fatal("range of /big.bin differs")
	}
	es, _ := c.VaultLs(ctx, "/docs/a.txt")
	if len(es) != 1 || es[0].Mode != 0o640 || es[0].Size != 100 {
		t.Fatalf("ls of a file: %+v", es)
	}

	// The same add again changes nothing.
	res, err = c.VaultAdd(ctx, "/", []string{filepath.Join(src, "docs")}, nil)
	if err != nil || res.Files != 0 || res.Unchanged != 2 {
		t.Fatalf("re-add: %+v %v", res, err)
	}

	// A tar upload into a folder that does not exist yet.
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "up/x.txt", Size: 5, Mode: 0o600, ModTime: time.Unix(1e9, 0)})
	tw.Write([]byte("hello"))
	tw.Close()
	if _, err := c.VaultAddTar(ctx, "/inbox", &tb, nil); err != nil {
		t.Fatal(err)
	}
	if got := cat(t, c, "/inbox/up/x.txt", "", 0, -1); string(got) != "hello" {
		t.Fatalf("tar upload read back %q", got)
	}
	var bad bytes.Buffer
	tw = tar.NewWriter(&bad)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "../escape", Size: 1})
	tw.Write([]byte("x"))
	tw.Close()
	if _, err := c.VaultAddTar(ctx, "/", &bad, nil); err == nil || !strings.Contains(err.Error(), "relative") {
		t.Fatalf("tar with ..: %v", err)
	}

	// A folder comes back as a tar with the folder on top.
	resp, err := c.VaultGet(ctx, "/docs", "")
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(resp.Body)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
		if h.Name == "docs/a.txt" {
			b, _ := io.ReadAll(tr)
			if !bytes.Equal(b, a) {
				t.Fatal("docs/a.txt in the tar differs")
			}
		}
	}
	resp.Body.Close()
	if !slices.Equal(names, []string{"docs/", "docs/a.txt", "docs/sub/", "docs/sub/b.txt"}) {
		t.Fatalf("tar of /docs: %v", names)
	}

	// Versions: change a.txt twice, then remove it and get it back.
	v2 := randomFile(t, src, "docs/a.txt", 150)
	if _, err := c.VaultAdd(ctx, "/docs", []string{filepath.Join(src, "docs", "a.txt")}, nil); err != nil {
		t.Fatal(err)
	}
	vs, err := c.Versions(ctx, "/docs/a.txt", 0)
	if err != nil || len(vs) != 2 || vs[0].Size != 150 || vs[1].Size != 100 {
		t.Fatalf("versions %+v %v", vs, err)
	}
	if got := cat(t, c, "/docs/a.txt", vs[1].ID, 0, -1); !bytes.Equal(got, a) {
		t.Fatal("old version reads back wrong")
	}
	if _, err := c.VaultRm(ctx, "/docs", false); err == nil {
		t.Fatal("removed a full folder without -r")
	}
	if _, err := c.VaultRm(ctx, "/docs/a.txt", false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VaultLs(ctx, "/docs/a.txt"); err == nil {
		t.Fatal("removed file still listed")
	}
	if _, err := c.Restore(ctx, "/docs/a.txt", vs[1].ID); err != nil {
		t.Fatal(err)
	}
	if got := cat(t, c, "/docs/a.txt", "", 0, -1); !bytes.Equal(got, a) {
		t.Fatal("restored file differs")
	}
	vs, _ = c.Versions(ctx, "/docs/a.txt", 0)
	if len(vs) != 3 || vs[0].Size != 100 || vs[1].Size != 150 {
		t.Fatalf("after restore: %+v", vs)
	}

	if err := c.VaultMkdir(ctx, "/archive/2026", false); err == nil {
		t.Fatal("mkdir without -p made parents")
	}
	if err := c.VaultMkdir(ctx, "/archive/2026", true); err != nil {
		t.Fatal(err)
	}
	if err := c.VaultMv(ctx, "/docs", "/archive/2026"); err != nil {
		t.Fatal(err)
	}
	if got := cat(t, c, "/archive/2026/docs/a.txt", "", 0, -1); !bytes.Equal(got, a) {
		t.Fatal("moved file differs")
	}
	st, err := c.RepoStat(ctx)
	if err != nil || st.LogicalBytes != uint64(len(big)+100+200+5) || st.StoredBytes < int64(len(big)) {
		t.Fatalf("repo stat %+v %v", st, err)
	}
	snaps, err := c.Snapshots(ctx, 0)
	if err != nil || len(snaps) < 6 {
		t.Fatalf("snapshots %d %v", len(snaps), err)
	}

	// GC keeps everything the history needs.
	if _, err := c.RepoGC(ctx); err != nil {
		t.Fatal(err)
	}
	if got := cat(t, c, "/docs/a.txt", vs[1].ID, 0, -1); !bytes.Equal(got, v2) {
		t.Fatal("after GC an old version reads back wrong")
	}

	// A restarted daemon has the same head.
	acct, _ := c.Account(ctx)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	r, err = repo.Open(rdir)
	if err != nil {
		t.Fatal(err)
	}
	_, c = startRepo(t, r)
	acct2, err := c.Account(ctx)
	if err != nil || acct2.Head != acct.Head || acct2.Account != acct.Account {
		t.Fatalf("after restart %+v, before %+v (%v)", acct2, acct, err)
	}
	if got := cat(t, c, "/big.bin", "", 0, -1); !bytes.Equal(got, big) {
		t.Fatal("after restart /big.bin differs")
	}
	if _, err := c.VaultLs(ctx, "/nope"); err == nil || !strings.Contains(err.Error(), "no such") {
		t.Fatalf("ls of a missing path: %v", err)
	}
}
