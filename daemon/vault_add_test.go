package daemon_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTarUploadOutlivesProgress: a tar upload whose body is still being
// sent when the first progress line goes out is added whole (Go's HTTP/1
// server used to drop what was left of the body at that first write).
func TestTarUploadOutlivesProgress(t *testing.T) {
	_, c := start(t)
	pr, pw := io.Pipe()
	progressed := make(chan struct{})
	const files, size = 8, 256 << 10
	want := map[string][]byte{}
	go func() {
		tw := tar.NewWriter(pw)
		for i := range files {
			data := make([]byte, size)
			rand.Read(data)
			name := fmt.Sprintf("f%d.bin", i)
			want[name] = data
			if i == 1 {
				// The rest only once the server said how far it got.
				select {
				case <-progressed:
				case <-time.After(time.Minute):
				}
			}
			tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg})
			tw.Write(data)
		}
		pw.CloseWithError(tw.Close())
	}()
	var once sync.Once
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	go func() { <-ctx.Done(); pr.CloseWithError(ctx.Err()) }()
	if _, err := c.VaultAddTar(ctx, "/up", pr, func(uint64) { once.Do(func() { close(progressed) }) }); err != nil {
		t.Fatalf("the upload failed: %v", err)
	}
	for name, data := range want {
		resp, err := c.VaultCat(t.Context(), "/up/"+name, "", 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s differs", name)
		}
	}
}

// TestLocalAddManyFiles: a local add of many small files (written several
// at once) and a big one records each once, in the order of the walk,
// with its bytes; adding the folder again with one file changed makes one
// version, after the one before; a file the daemon cannot read fails the
// add and names it, and nothing of that add is recorded.
func TestLocalAddManyFiles(t *testing.T) {
	_, c := start(t)
	ctx := t.Context()
	src := filepath.Join(t.TempDir(), "many")
	want := map[string][]byte{}
	var order []string
	write := func(rel string, size int) {
		data := make([]byte, size)
		rand.Read(data)
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		want["/many/"+filepath.ToSlash(rel)] = data
	}
	for i := range 60 {
		write(fmt.Sprintf("d%d/f%02d", i%3, i), 1+i*100)
	}
	write("d1/big.bin", 3<<20)
	res, err := c.VaultAdd(ctx, "/", []string{src}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != len(want) {
		t.Fatalf("added %d files, want %d", res.Files, len(want))
	}
	filepath.WalkDir(src, func(p string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			rel, _ := filepath.Rel(src, p)
			order = append(order, "/many/"+filepath.ToSlash(rel))
		}
		return nil
	})
	for i, e := range res.Added {
		if e.Path != order[i] {
			t.Fatalf("added[%d] is %s, the walk's is %s", i, e.Path, order[i])
		}
	}
	read := func(p string) []byte { return cat(t, c, p, "", 0, -1) }
	for p, data := range want {
		if !bytes.Equal(read(p), data) {
			t.Fatalf("%s differs", p)
		}
	}
	// Again, one file changed: one version, after the first.
	write("d2/f05", 4096)
	later := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(src, "d2", "f05"), later, later)
	res, err = c.VaultAdd(ctx, "/", []string{src}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 1 || res.Unchanged != len(want)-1 {
		t.Fatalf("adding again with one change: %d files, %d unchanged", res.Files, res.Unchanged)
	}
	if !bytes.Equal(read("/many/d2/f05"), want["/many/d2/f05"]) {
		t.Fatal("the changed file reads as before")
	}
	vs, err := c.Versions(ctx, "/many/d2/f05", 0)
	if err != nil || len(vs) != 2 {
		t.Fatalf("versions of the changed file: %d, %v", len(vs), err)
	}
	// A file where the vault has a folder, met while the files before it
	// are being written: the add fails and says why, and what came
	// before it in the walk is kept, as when files were added one by one.
	if err := c.VaultMkdir(ctx, "/many/d0/zz", true); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		write(fmt.Sprintf("d0/n%02d", i), 100)
	}
	write("d0/zz", 10)
	if _, err := c.VaultAdd(ctx, "/", []string{src}, nil); err == nil || !strings.Contains(err.Error(), "a folder of that name exists") {
		t.Fatalf("adding a file where the vault has a folder: %v", err)
	}
	for i := range 20 {
		p := fmt.Sprintf("/many/d0/n%02d", i)
		if !bytes.Equal(read(p), want[p]) {
			t.Fatalf("%s, added before the failing file, differs", p)
		}
	}
	// A file the daemon cannot read (not for root, who reads any): the
	// add fails and names it.
	if os.Geteuid() == 0 {
		return
	}
	os.Remove(filepath.Join(src, "d0", "zz"))
	bad := filepath.Join(src, "d0", "secret")
	write("d0/secret", 10)
	os.Chmod(bad, 0)
	if _, err := c.VaultAdd(ctx, "/", []string{src}, nil); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("adding a folder with an unreadable file: %v", err)
	}
}
