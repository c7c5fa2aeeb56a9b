package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/peer-cloud/peer/ipfsfile"
)

// treeSize sums the sizes of the regular files under root.
func treeSize(root string) (int64, error) {
	var n int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	return n, err
}

// writeTree writes the folder root as a tar stream whose top entry is its
// base name. Symbolic links and special files are skipped and reported
// through skip.
func writeTree(root string, w io.Writer, count func(io.Reader) io.Reader, skip func(string)) error {
	tw := tar.NewWriter(w)
	base := filepath.Base(filepath.Clean(root))
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := path.Join(base, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		case d.Type().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: fi.Size()}); err != nil {
				return err
			}
			_, err = io.Copy(tw, count(f))
			return err
		default:
			skip(p)
			return nil
		}
	})
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", root, err)
	}
	return tw.Close()
}

// extractTar writes a tar stream from the daemon to out: the top entry
// becomes out, entries below it go inside. Names that would leave out are
// refused. out must not exist.
func extractTar(r io.Reader, out string, count func(io.Reader) io.Reader) error {
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("%s already exists: remove it or choose another -o", out)
	}
	tr := tar.NewReader(r)
	top := ""
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("failed to read the download: %w", err)
		}
		parts, err := ipfsfile.SplitName(h.Name)
		if err != nil {
			return fmt.Errorf("refusing a download entry: %w", err)
		}
		if top == "" {
			top = parts[0]
		}
		if parts[0] != top {
			return fmt.Errorf("refusing entry %q: it is not under %s", h.Name, top)
		}
		dst := filepath.Join(append([]string{out}, parts[1:]...)...)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := saveFile(dst, count(tr), -1); err != nil {
				return err
			}
		default:
			return errors.New("refusing a download entry that is not a file or folder")
		}
	}
	if top == "" {
		return errors.New("the download was empty")
	}
	return nil
}
