package folder

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestIgnoreRules(t *testing.T) {
	files := map[string]string{"shared/rules": "*.bak\n#include more\n", "shared/more": "/top-only\n"}
	ig, err := ParseIgnore([]byte(`
// a comment
!keep.log
*.log
/build
(?i)*.TMP
(?d).DS_Store
docs/**/draft?.md
{a,b}.x
[0-9][!a]z
#include shared/rules
\#literal
`), func(rel string) ([]byte, error) {
		if s, ok := files[rel]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path      string
		ignored   bool
		deletable bool
	}{
		{"x.log", true, false},
		{"deep/down/x.log", true, false},
		{"keep.log", false, false}, // the first match wins
		{"sub/keep.log", false, false},
		{"build", true, false},
		{"build/out/a.o", true, false}, // below an ignored folder
		{"src/build", false, false},    // anchored at the top
		{"a.tmp", true, false},
		{"A.Tmp", true, false},
		{"x/.DS_Store", true, true},
		{"docs/a/b/draft1.md", true, false},
		{"docs/draft1.md", false, false}, // ** between two slashes needs a folder
		{"a.x", true, false},
		{"c.x", false, false},
		{"1bz", true, false},
		{"1az", false, false},
		{"old.bak", true, false},
		{"top-only", true, false},
		{"#literal", true, false},
		{"plain.txt", false, false},
	} {
		ign, del := ig.Match(c.path)
		if ign != c.ignored || del != c.deletable {
			t.Errorf("%s: ignored %v deletable %v; want %v %v", c.path, ign, del, c.ignored, c.deletable)
		}
	}
	if ig.SkipDir("build") {
		t.Error("SkipDir with a ! rule present")
	}
	for _, bad := range []string{"#include ../outside", "#include", "#escape=|", "\\", "#include /loop"} {
		_, err := ParseIgnore([]byte(bad), func(rel string) ([]byte, error) { return []byte("#include /loop"), nil })
		if err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestIgnoredNotSynced: ignored files stay out of the vault, and ignored
// vault files stay off the disk.
func TestIgnoredNotSynced(t *testing.T) {
	d := newDev(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, IgnoreFile), []byte("*.log\n/cache\n"))
	write(t, filepath.Join(dir, "a.log"), []byte("log"))
	write(t, filepath.Join(dir, "cache/big"), []byte("cache"))
	write(t, filepath.Join(dir, "kept"), []byte("kept"))
	d.add(dir, "/I")
	eventually(t, bound, "kept in the vault", func() bool { return string(d.vaultFile("/I/kept")) == "kept" })
	d.put("/I/remote.log", []byte("r"))
	d.put("/I/remote.txt", []byte("r"))
	eventually(t, bound, "remote file on disk", func() bool { return hasFile(filepath.Join(dir, "remote.txt"), []byte("r")) })
	names := d.vaultNames("/I")
	for _, n := range names {
		if n == "a.log" || n == "cache" || n == IgnoreFile {
			t.Fatalf("%s was synced: %v", n, names)
		}
	}
	if !gone(filepath.Join(dir, "remote.log")) {
		t.Fatal("an ignored vault file was written")
	}
}

// TestPathSafety: paths that could lead out of the folder are refused,
// and nothing is written through a symlink.
func TestPathSafety(t *testing.T) {
	for _, rel := range []string{"", "/abs", "../x", "a/../../x", "a//b", "a/./b", "nul\x00", `a\b`} {
		if checkRel(rel) == nil {
			t.Errorf("%q accepted", rel)
		}
	}
	d := newDev(t)
	dir, outside := t.TempDir(), t.TempDir()
	d.add(dir, "/P")
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	d.put("/P/link/escaped", []byte("x"))
	d.put("/P/after", []byte("a"))
	eventually(t, bound, "later file on disk", func() bool { return hasFile(filepath.Join(dir, "after"), []byte("a")) })
	eventually(t, bound, "symlink reported", func() bool {
		for _, ps := range d.status(dir).OutOfSync {
			if ps.Path == "link" || ps.Path == "link/escaped" {
				return true
			}
		}
		return false
	})
	if des, _ := os.ReadDir(outside); len(des) != 0 {
		t.Fatalf("written through a symlink: %v", des)
	}
	tr, _ := d.acct.ReadTree()
	if _, err := tr.Stat(context.Background(), "/P/link/escaped"); err != nil {
		t.Fatal("the vault lost the file the disk could not take")
	}
}
