package dav

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"golang.org/x/net/webdav"

	"github.com/peer-cloud/peer/vault"
)

// fileInfo describes a vault entry; its ETag is the entry's CID (the
// file version, or the folder node).
type fileInfo struct {
	name string
	e    vault.Entry
}

var (
	_ webdav.ETager       = (*fileInfo)(nil)
	_ webdav.ContentTyper = (*fileInfo)(nil)
)

func (fi *fileInfo) Name() string { return fi.name }
func (fi *fileInfo) Size() int64  { return int64(fi.e.Size) }
func (fi *fileInfo) IsDir() bool  { return fi.e.Kind == vault.KindDir }
func (fi *fileInfo) Sys() any     { return nil }

func (fi *fileInfo) ModTime() time.Time { return time.Unix(0, fi.e.Mtime) }

func (fi *fileInfo) Mode() os.FileMode {
	if fi.IsDir() {
		return fs.ModeDir | 0o755
	}
	if m := os.FileMode(fi.e.Mode).Perm(); m != 0 {
		return m
	}
	return 0o644
}

// ETag returns the CID of the version or folder node, quoted.
func (fi *fileInfo) ETag(context.Context) (string, error) {
	if !fi.e.CID.Defined() {
		return "", webdav.ErrNotImplemented // the empty root before the first change
	}
	return `"` + fi.e.CID.String() + `"`, nil
}

// ContentType names the type from the name alone: sniffing would read
// and decrypt the first chunk of every file a PROPFIND lists.
func (fi *fileInfo) ContentType(context.Context) (string, error) {
	return contentType(fi.name), nil
}

// props gives a file or folder its dead properties.
type props struct {
	fs  *FS
	ctx context.Context
	p   string
}

// DeadProps returns the resource's dead properties.
func (f props) DeadProps() (map[xml.Name]webdav.Property, error) {
	return f.fs.props.deadProps(f.ctx, f.p)
}

// Patch sets and removes dead properties, all or none.
func (f props) Patch(patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	return f.fs.props.patch(f.ctx, f.p, patches)
}

var errReadOnly = errors.New("opened for reading")

// dirFile is an open folder.
type dirFile struct {
	fs  *FS
	ctx context.Context
	p   string
	fi  *fileInfo
	es  []vault.Entry
	pos int
	got bool
}

var _ webdav.DeadPropsHolder = (*dirFile)(nil)

func (d *dirFile) DeadProps() (map[xml.Name]webdav.Property, error) {
	return props{d.fs, d.ctx, d.p}.DeadProps()
}

func (d *dirFile) Patch(ps []webdav.Proppatch) ([]webdav.Propstat, error) {
	return props{d.fs, d.ctx, d.p}.Patch(ps)
}

func (d *dirFile) Close() error                   { return nil }
func (d *dirFile) Read([]byte) (int, error)       { return 0, pathErr("read", d.p, errIsFolder) }
func (d *dirFile) Write([]byte) (int, error)      { return 0, pathErr("write", d.p, errIsFolder) }
func (d *dirFile) Seek(int64, int) (int64, error) { return 0, pathErr("seek", d.p, errIsFolder) }
func (d *dirFile) Stat() (os.FileInfo, error)     { return d.fi, nil }

// Readdir lists the folder as os.File.Readdir does.
func (d *dirFile) Readdir(count int) ([]os.FileInfo, error) {
	if !d.got {
		err := d.fs.view(func(t *vault.Tree) error {
			var err error
			d.es, err = t.List(d.ctx, d.p)
			return err
		})
		if err != nil {
			return nil, pathErr("readdir", d.p, err)
		}
		d.got = true
	}
	rest := d.es[d.pos:]
	if count > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	if count > 0 && count < len(rest) {
		rest = rest[:count]
	}
	d.pos += len(rest)
	out := make([]os.FileInfo, len(rest))
	for i, e := range rest {
		out[i] = &fileInfo{name: e.Name, e: e}
	}
	return out, nil
}

// readFile is a file open for reading. Reads stream from where the last
// one ended (vault.ReadRange into a pipe, several chunks ahead); a Seek
// elsewhere starts a new stream there, so a range costs only the chunks
// it covers.
type readFile struct {
	fs  *FS
	ctx context.Context
	p   string
	fi  *fileInfo
	fv  *vault.FileVersion // opened at the first read

	pos    int64
	pipe   *io.PipeReader
	ppos   int64 // where the pipe's next byte is in the file
	cancel context.CancelFunc
	done   chan struct{}
}

var _ webdav.DeadPropsHolder = (*readFile)(nil)

func (f *readFile) DeadProps() (map[xml.Name]webdav.Property, error) {
	return props{f.fs, f.ctx, f.p}.DeadProps()
}

func (f *readFile) Patch(ps []webdav.Proppatch) ([]webdav.Propstat, error) {
	return props{f.fs, f.ctx, f.p}.Patch(ps)
}

func (f *readFile) Stat() (os.FileInfo, error) { return f.fi, nil }
func (f *readFile) Write([]byte) (int, error)  { return 0, pathErr("write", f.p, errReadOnly) }
func (f *readFile) Readdir(int) ([]os.FileInfo, error) {
	return nil, pathErr("readdir", f.p, errors.New("not a folder"))
}

func (f *readFile) Close() error {
	f.stop()
	return nil
}

// Seek sets where the next Read starts.
func (f *readFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += f.pos
	case io.SeekEnd:
		off += f.fi.Size()
	default:
		return f.pos, pathErr("seek", f.p, os.ErrInvalid)
	}
	if off < 0 {
		return f.pos, pathErr("seek", f.p, os.ErrInvalid)
	}
	f.pos = off
	return off, nil
}

// Read reads from the current position.
func (f *readFile) Read(b []byte) (int, error) {
	if f.pos >= f.fi.Size() {
		return 0, io.EOF
	}
	if f.pipe == nil || f.ppos != f.pos {
		if err := f.start(); err != nil {
			return 0, err
		}
	}
	n, err := f.pipe.Read(b)
	f.pos += int64(n)
	f.ppos = f.pos
	if err == io.EOF && f.pos < f.fi.Size() {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// start begins streaming from f.pos.
func (f *readFile) start() error {
	f.stop()
	if f.fv == nil {
		fv, err := f.fs.v.OpenFileWithKey(f.ctx, f.fi.e.CID, f.fi.e.Key, f.p)
		if err != nil {
			return pathErr("read", f.p, err)
		}
		f.fv = fv
	}
	ctx, cancel := context.WithCancel(f.ctx)
	pr, pw := io.Pipe()
	f.pipe, f.ppos, f.cancel, f.done = pr, f.pos, cancel, make(chan struct{})
	go func(off int64, done chan struct{}) {
		defer close(done)
		pw.CloseWithError(f.fs.v.ReadRange(ctx, f.fv, pw, off, -1))
	}(f.pos, f.done)
	return nil
}

// stop ends the stream, if one runs, and waits for it.
func (f *readFile) stop() {
	if f.pipe == nil {
		return
	}
	f.cancel()
	f.pipe.CloseWithError(io.ErrClosedPipe)
	<-f.done
	f.pipe = nil
}
