package dav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"

	"github.com/peer-cloud/peer/vault"
)

// Finder writes a .DS_Store into every folder it shows and a ._NAME
// (AppleDouble: extended attributes, resource fork) beside every file it
// copies, and fails the whole copy when they cannot be written. They are
// kept here, in memory and out of the vault, so they never sync to the
// account's other devices nor show in their folders; a restart forgets
// them, which Finder copes with. A vault file of such a name (added
// another way) is served as usual.

// isJunk reports whether p names a file Finder writes for itself.
func isJunk(p string) bool {
	b := path.Base(p)
	return b == ".DS_Store" || strings.HasPrefix(b, "._")
}

// Limits of the in-memory store: AppleDouble files are a few KiB.
const (
	junkFileMax  = 1 << 20
	junkTotalMax = 64 << 20
)

var errJunkFull = errors.New("too many or too large Finder metadata files (.DS_Store, ._*) held in memory")

// junkStore holds Finder's files by path.
type junkStore struct {
	mu    sync.Mutex
	files map[string]junkFile
	total int
}

type junkFile struct {
	data  []byte
	mtime time.Time
}

func (j *junkStore) get(p string) (junkFile, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f, ok := j.files[p]
	return f, ok
}

func (j *junkStore) put(p string, data []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	old := len(j.files[p].data)
	if len(data) > junkFileMax || j.total-old+len(data) > junkTotalMax {
		return errJunkFull
	}
	if j.files == nil {
		j.files = map[string]junkFile{}
	}
	j.files[p] = junkFile{data: data, mtime: time.Now()}
	j.total += len(data) - old
	return nil
}

// remove drops p and what is below it; ok says p itself was held.
func (j *junkStore) remove(p string) (ok bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for q, f := range j.files {
		if q == p || within(q, p) {
			ok = ok || q == p
			j.total -= len(f.data)
			delete(j.files, q)
		}
	}
	return ok
}

// move carries what is held below a moved folder along.
func (j *junkStore) move(src, dst string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for q, f := range j.files {
		if within(q, src) {
			delete(j.files, q)
			j.files[dst+strings.TrimPrefix(q, src)] = f
		}
	}
}

func junkInfo(p string, f junkFile) *fileInfo {
	return &fileInfo{name: path.Base(p), e: vault.Entry{Name: path.Base(p), Kind: vault.KindFile, Size: uint64(len(f.data)), Mtime: f.mtime.UnixNano(), Mode: 0o644}}
}

// junkParent checks that p's folder is in the vault.
func (fs *FS) junkParent(ctx context.Context, p string) error {
	e, err := fs.stat(ctx, path.Dir(p))
	if errors.Is(err, vault.ErrNotExist) || (err == nil && e.Kind != vault.KindDir) {
		return errNoParent
	}
	return err
}

// junkCopyMove copies or moves a held file to another Finder name.
func (fs *FS) junkCopyMove(ctx context.Context, src, dst string, overwrite, move bool) (created bool, err error) {
	f, _ := fs.junk.get(src)
	if !isJunk(dst) {
		return false, pathErr("move", dst, errJunkTarget)
	}
	if err := fs.junkParent(ctx, dst); err != nil {
		return false, err
	}
	_, exists := fs.junk.get(dst)
	if exists && !overwrite {
		return false, errDestExists
	}
	if err := fs.junk.put(dst, f.data); err != nil {
		return false, err
	}
	if move {
		fs.junk.remove(src)
	}
	return !exists, nil
}

var errJunkTarget = errors.New("a Finder metadata file (.DS_Store, ._*) can only become another")

// junkReader is a held file open for reading.
type junkReader struct {
	*bytes.Reader
	fi *fileInfo
}

func (f *junkReader) Close() error                       { return nil }
func (f *junkReader) Stat() (os.FileInfo, error)         { return f.fi, nil }
func (f *junkReader) Write([]byte) (int, error)          { return 0, errReadOnly }
func (f *junkReader) Readdir(int) ([]os.FileInfo, error) { return nil, errors.New("not a folder") }

// junkWriter is a held file being written; Close keeps it.
type junkWriter struct {
	fs  *FS
	p   string
	buf bytes.Buffer
	err error
}

var _ webdav.File = (*junkWriter)(nil)

func (f *junkWriter) Write(b []byte) (int, error) {
	if f.buf.Len()+len(b) > junkFileMax {
		f.err = errJunkFull
		return 0, f.err
	}
	return f.buf.Write(b)
}

func (f *junkWriter) Close() error {
	if f.err != nil {
		return f.err
	}
	return f.fs.junk.put(f.p, bytes.Clone(f.buf.Bytes()))
}

func (f *junkWriter) Stat() (os.FileInfo, error) {
	return junkInfo(f.p, junkFile{data: f.buf.Bytes(), mtime: time.Now()}), nil
}

func (f *junkWriter) Read([]byte) (int, error)           { return 0, errors.New("opened for writing") }
func (f *junkWriter) Seek(int64, int) (int64, error)     { return 0, errors.New("opened for writing") }
func (f *junkWriter) Readdir(int) ([]os.FileInfo, error) { return nil, errors.New("not a folder") }

// DeadProps: a held file has none, and takes none.
func (f *junkReader) DeadProps() (map[xml.Name]webdav.Property, error) { return nil, nil }

// Patch refuses: the file is not kept.
func (f *junkReader) Patch(ps []webdav.Proppatch) ([]webdav.Propstat, error) {
	st := webdav.Propstat{Status: http.StatusForbidden}
	for _, p := range ps {
		for _, pr := range p.Props {
			st.Props = append(st.Props, webdav.Property{XMLName: pr.XMLName})
		}
	}
	return []webdav.Propstat{st}, nil
}

// putJunk answers a PUT of a Finder metadata file.
func (h *Handler) putJunk(ctx context.Context, w http.ResponseWriter, p string, body io.Reader) (int, error) {
	if err := h.fs.junkParent(ctx, p); err != nil {
		return statusOf(err, http.StatusConflict), err
	}
	data, err := io.ReadAll(io.LimitReader(body, junkFileMax+1))
	if err != nil {
		return http.StatusBadRequest, err
	}
	_, existed := h.fs.junk.get(p)
	if len(data) > junkFileMax {
		return http.StatusInsufficientStorage, errJunkFull
	}
	if err := h.fs.junk.put(p, data); err != nil {
		return http.StatusInsufficientStorage, err
	}
	if existed {
		return http.StatusNoContent, nil
	}
	return http.StatusCreated, nil
}
