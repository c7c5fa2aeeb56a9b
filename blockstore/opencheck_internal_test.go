package blockstore

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCheckDir feeds checkDir a MANIFEST and one table file (listed or
// not, by its ID): whatever their bytes, it must not panic, must keep the
// table's bytes (in the folder or moved aside) and must answer in one line.
// The seeds in testdata/fuzz/FuzzCheckDir are a real store's MANIFEST and
// table, intact and damaged.
func FuzzCheckDir(f *testing.F) {
	f.Fuzz(func(t *testing.T, manifest, tbl []byte, id uint8) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, manifestFile), manifest, 0o600); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%06d.sst", id)
		if err := os.WriteFile(filepath.Join(dir, name), tbl, 0o600); err != nil {
			t.Fatal(err)
		}
		err := checkDir(dir, 0, slog.New(slog.DiscardHandler))
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error of several lines: %q", err)
		}
		kept, _ := filepath.Glob(filepath.Join(dir, unlistedPrefix+"*", name))
		kept = append(kept, filepath.Join(dir, name))
		for _, p := range kept {
			if b, err := os.ReadFile(p); err == nil && bytes.Equal(b, tbl) {
				return
			}
		}
		t.Fatalf("table file lost (check said %v)", err)
	})
}
