package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func tarOf(t *testing.T, names ...string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(n))}
		if n[len(n)-1] == '/' {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(n))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func same(r io.Reader) io.Reader { return r }

func TestExtractTarWritesTree(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if err := extractTar(bytes.NewReader(tarOf(t, "cid/", "cid/a", "cid/sub/", "cid/sub/b")), out, same); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "sub/b"} {
		b, err := os.ReadFile(filepath.Join(out, n))
		if err != nil || string(b) != "cid/"+n {
			t.Fatalf("%s: %q, %v", n, b, err)
		}
	}
	if err := extractTar(bytes.NewReader(tarOf(t, "cid")), out, same); err == nil {
		t.Fatal("extract over an existing path succeeded")
	}
}

func TestExtractTarRefusesEscapes(t *testing.T) {
	for _, names := range [][]string{
		{"cid/", "cid/../../etc/x"},
		{"cid/", "other/x"},
		{"/abs"},
	} {
		dir := t.TempDir()
		err := extractTar(bytes.NewReader(tarOf(t, names...)), filepath.Join(dir, "out"), same)
		if err == nil {
			t.Errorf("%v: extracted", names)
		}
		if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
			t.Errorf("%v: wrote outside the output folder", names)
		}
	}
}
