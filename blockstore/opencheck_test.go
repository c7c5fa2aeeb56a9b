package blockstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pin "github.com/ipfs/boxo/pinning/pinner"

	"github.com/peer-cloud/peer/blockstore"
)

// baseStore returns a closed store with three pinned files, its blocks in
// 000001.vlog and its keys in the table 000001.sst.
func baseStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blocks")
	s := open(t, dir, blockstore.ProfilePi)
	for range 3 {
		nd := addRandom(t, s, 3<<20)
		if err := s.Pinner().PinWithMode(context.Background(), nd.Cid(), pin.Recursive, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "000001.sst")); err != nil {
		t.Fatalf("closing the store flushed no table: %v", err)
	}
	return dir
}

// copyStore returns a copy of the store in base, to damage.
func copyStore(t *testing.T, base string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blocks")
	if err := os.CopyFS(dir, os.DirFS(base)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tableSizes returns the names and sizes of the table files under dir,
// in sub-folders too.
func tableSizes(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".sst") {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out[d.Name()] = fi.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenRefusesDamagedStore(t *testing.T) {
	base := baseStore(t)
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string // in the error
	}{
		{"no MANIFEST", func(t *testing.T, dir string) {
			rm(t, filepath.Join(dir, "MANIFEST"))
		}, "has data files but no MANIFEST"},
		{"empty MANIFEST", func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, "MANIFEST"), 0)
		}, "its MANIFEST cannot be read"},
		{"MANIFEST cut in its first record", func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, "MANIFEST"), 10)
		}, "its MANIFEST ends early and does not list 000001.sst"},
		{"MANIFEST with a damaged record", func(t *testing.T, dir string) {
			overwrite(t, filepath.Join(dir, "MANIFEST"), 16, []byte("XXXX"))
		}, "its MANIFEST cannot be read"},
		{"truncated table", func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, "000001.sst"), 1000)
		}, "table file 000001.sst is truncated or damaged"},
		{"empty table", func(t *testing.T, dir string) {
			truncate(t, filepath.Join(dir, "000001.sst"), 0)
		}, "table file 000001.sst is empty"},
		{"table missing", func(t *testing.T, dir string) {
			rm(t, filepath.Join(dir, "000001.sst"))
		}, "its MANIFEST lists 000001.sst, which is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyStore(t, base)
			tc.damage(t, dir)
			before := tableSizes(t, dir)
			s, err := blockstore.Open(context.Background(), dir, blockstore.ProfilePi, nil)
			if err == nil {
				st, _ := s.Stat(context.Background())
				s.Close()
				t.Fatalf("opened a damaged store (%d blocks)", st.Blocks)
			}
			if !errors.Is(err, blockstore.ErrDamaged) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %q; want ErrDamaged naming %s and saying %q", err, dir, tc.want)
			}
			t.Log(err)
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			if after := tableSizes(t, dir); !equalSizes(before, after) {
				t.Fatalf("table files before open %v, after %v", before, after)
			}
		})
	}
}

// A table the MANIFEST does not list, beside an intact MANIFEST, is what
// a crash during a compaction leaves; Badger deletes it at open. Open must
// move it aside instead and open the store whole.
func TestOpenMovesUnlistedTableAside(t *testing.T) {
	dir := copyStore(t, baseStore(t))
	b, err := os.ReadFile(filepath.Join(dir, "000001.sst"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "000009.sst"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir, blockstore.ProfilePi)
	defer s.Close()
	st, err := s.Stat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Blocks != 3*4 || st.Pins != 3 {
		t.Fatalf("store holds %d blocks, %d pins; want 12 and 3", st.Blocks, st.Pins)
	}
	moved, err := filepath.Glob(filepath.Join(dir, "unlisted-*", "000009.sst"))
	if err != nil || len(moved) != 1 {
		t.Fatalf("unlisted table not moved aside: %v %v", moved, err)
	}
}

func TestOpenLocksFolder(t *testing.T) {
	dir := copyStore(t, baseStore(t))
	s := open(t, dir, blockstore.ProfilePi)
	defer s.Close()
	// Even an unlisted table must not be moved from under an open store.
	if err := os.WriteFile(filepath.Join(dir, "000009.sst"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := blockstore.Open(context.Background(), dir, blockstore.ProfilePi, nil)
	if !errors.Is(err, blockstore.ErrLocked) {
		t.Fatalf("second open: %v; want ErrLocked", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "000009.sst")); err != nil {
		t.Fatalf("second open touched the open store's folder: %v", err)
	}
}

func equalSizes(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func rm(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func overwrite(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
