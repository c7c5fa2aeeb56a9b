package daemon_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
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
