package folder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// diskStat is what the quick check compares of a path on disk.
type diskStat struct {
	Kind  byte // kindFile, kindDir, or 0 for anything else
	Size  int64
	Mtime int64
	Mode  uint32
	Inode uint64
	// Other names what a path that is neither a regular file nor a
	// folder is ("symlink", "special file").
	Other string
}

// statOf turns an Lstat result into a diskStat.
func statOf(fi fs.FileInfo) diskStat {
	s := diskStat{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Mode: uint32(fi.Mode().Perm()), Inode: inodeOf(fi)}
	switch t := fi.Mode().Type(); {
	case t == 0:
		s.Kind = kindFile
	case t == fs.ModeDir:
		s.Kind, s.Size = kindDir, 0
	case t&fs.ModeSymlink != 0:
		s.Other = "symlink"
	default:
		s.Other = "special file"
	}
	return s
}

// lstat returns the diskStat of p; ok is false when nothing is there.
func lstat(p string) (diskStat, bool, error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return diskStat{}, false, nil
	}
	if err != nil {
		return diskStat{}, false, err
	}
	return statOf(fi), true, nil
}

// errOutside is wrapped by errors about a path that would lead out of
// the folder.
var errOutside = errors.New("leads out of the folder")

// checkRel refuses a relative path that could lead anywhere but below
// the folder: empty, absolute, with "." or ".." parts, empty parts, NUL
// or a backslash (a separator elsewhere).
func checkRel(rel string) error {
	if rel == "" || strings.HasPrefix(rel, "/") || strings.ContainsAny(rel, "\x00\\") {
		return fmt.Errorf("refusing %q: %w", rel, errOutside)
	}
	for _, n := range strings.Split(rel, "/") {
		if n == "" || n == "." || n == ".." {
			return fmt.Errorf("refusing %q: %w", rel, errOutside)
		}
	}
	return nil
}

// realParents checks that every folder from root down to rel's parent is
// a real folder on disk, not a symlink (which could lead out of the
// folder), so that a write at rel lands below root. A small window stays
// between this check and the write, as in Syncthing.
func realParents(root, rel string) error {
	if err := checkRel(rel); err != nil {
		return err
	}
	dir, _ := parent(rel)
	if dir == "" {
		return nil
	}
	p := root
	for _, n := range strings.Split(dir, "/") {
		p = filepath.Join(p, n)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("refusing %q: %s is not a folder (a symlink is never followed): %w", rel, p, errOutside)
		}
	}
	return nil
}

// syncDir makes a folder's entries (renames, removals) durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("failed to sync folder %s: %w", dir, err)
	}
	return nil
}
