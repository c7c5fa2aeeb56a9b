package dav

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	cid "github.com/ipfs/go-cid"
	"golang.org/x/net/webdav"

	"github.com/peer-cloud/peer/vault"
)

// upload is a new file version being written: what is written streams
// through a pipe into vault.WriteFile, and Close (or Stat) commits it in
// one change. The change lock is not held while the bytes arrive, so a
// slow upload holds up no other change; GC is held off by a PinLock
// while blocks are written, then by holding the version as a root until
// the change names it.
type upload struct {
	fs      *FS
	ctx     context.Context
	p       string
	prev    cid.Cid
	mtime   int64
	existed bool
	pw      *io.PipeWriter // nil until the first Write
	done    chan struct{}
	// streamed: the content was read from a body (commitFrom), not
	// written through the pipe.
	streamed bool
	fv       *vault.FileVersion // set when done closes, if err is nil
	err      error

	once sync.Once
	fi   *fileInfo
	cerr error // the commit's
}

var _ webdav.DeadPropsHolder = (*upload)(nil)

// newUpload prepares a version of p that follows prev; writes to it
// start the pipe into vault.WriteFile, or commitFrom reads a body
// straight into it.
func (fs *FS) newUpload(ctx context.Context, p string, prev cid.Cid, mtime int64, existed bool) *upload {
	return &upload{fs: fs, ctx: ctx, p: p, prev: prev, mtime: mtime, existed: existed}
}

// write stores the content r holds as the new version, holding GC off.
func (u *upload) write(r io.Reader) (*vault.FileVersion, error) {
	unlock := u.fs.gc.PinLock(u.ctx)
	defer unlock.Unlock(u.ctx)
	fv, err := u.fs.v.WriteFile(u.ctx, r, vault.FileInput{Name: path.Base(u.p), Mode: 0o644, Mtime: u.mtime, Prev: u.prev})
	if err == nil {
		u.fs.hold(fv.CID)
	}
	return fv, err
}

// start runs the pipe that Write feeds, at the first Write.
func (u *upload) start() {
	if u.pw != nil {
		return
	}
	pr, pw := io.Pipe()
	u.pw, u.done = pw, make(chan struct{})
	go func() {
		defer close(u.done)
		fv, err := u.write(pr)
		if err == nil {
			pr.CloseWithError(io.ErrClosedPipe) // a write after the end
		} else {
			pr.CloseWithError(err)
		}
		u.fv, u.err = fv, err
	}()
}

// commitFrom writes body as the content and commits the version; it
// must be the upload's only write.
func (u *upload) commitFrom(body io.Reader) (*fileInfo, error) {
	u.fv, u.err = u.write(body)
	u.streamed = true
	return u.commit()
}

func (u *upload) Write(b []byte) (int, error) {
	u.start()
	n, err := u.pw.Write(b)
	if err != nil {
		return n, pathErr("write", u.p, err)
	}
	return n, nil
}

// abort drops the upload: nothing is committed.
func (u *upload) abort(err error) {
	u.once.Do(func() {
		if u.pw != nil {
			u.pw.CloseWithError(err)
			<-u.done
		}
		if u.fv != nil {
			u.fs.release(u.fv.CID)
		}
		u.cerr = err
	})
}

// commit ends the content and puts the version at its path.
func (u *upload) commit() (*fileInfo, error) {
	u.once.Do(func() {
		switch {
		case u.streamed:
		case u.pw != nil:
			u.pw.Close()
			<-u.done
		default: // nothing written: an empty file
			u.fv, u.err = u.write(strings.NewReader(""))
		}
		if u.err != nil {
			u.cerr = pathErr("write", u.p, u.err)
			return
		}
		defer u.fs.release(u.fv.CID)
		e := vault.Entry{Name: path.Base(u.p), Kind: vault.KindFile, CID: u.fv.CID, Key: u.fv.Key, Size: u.fv.Size, Mtime: u.fv.Mtime, Mode: u.fv.Mode}
		_, err := u.fs.acct.Change(u.ctx, false, func(ctx context.Context, t *vault.Tree) error {
			pe, err := t.Stat(ctx, path.Dir(u.p))
			if errors.Is(err, vault.ErrNotExist) || (err == nil && pe.Kind != vault.KindDir) {
				return errNoParent // removed while the bytes came
			}
			if err != nil {
				return err
			}
			return t.Put(ctx, u.p, e)
		})
		if err != nil {
			u.cerr = pathErr("write", u.p, err)
			return
		}
		if !u.existed {
			// Properties an earlier resource of this name left go.
			if err := u.fs.props.removeAll(u.ctx, u.p); err != nil {
				u.cerr = err
				return
			}
		}
		u.fi = &fileInfo{name: e.Name, e: e}
	})
	return u.fi, u.cerr
}

// Close commits the version.
func (u *upload) Close() error {
	_, err := u.commit()
	return err
}

// Stat commits the version (x/net/webdav asks before Close, for the
// ETag) and describes it.
func (u *upload) Stat() (os.FileInfo, error) {
	fi, err := u.commit()
	if err != nil {
		return nil, err
	}
	return fi, nil
}

func (u *upload) Read([]byte) (int, error) {
	return 0, pathErr("read", u.p, errors.New("opened for writing"))
}
func (u *upload) Seek(int64, int) (int64, error) {
	return 0, pathErr("seek", u.p, errors.New("opened for writing"))
}
func (u *upload) Readdir(int) ([]os.FileInfo, error) {
	return nil, pathErr("readdir", u.p, errors.New("not a folder"))
}

func (u *upload) DeadProps() (map[xml.Name]webdav.Property, error) {
	return props{u.fs, u.ctx, u.p}.DeadProps()
}

func (u *upload) Patch(ps []webdav.Proppatch) ([]webdav.Propstat, error) {
	return props{u.fs, u.ctx, u.p}.Patch(ps)
}

// handlePut streams the body into a new version (no Content-Length
// needed: Finder sends chunked bodies) and commits it as one change. An
// X-OC-Mtime header (seconds, as rclone's owncloud and nextcloud vendors
// send) sets the modification time.
func (h *Handler) handlePut(w http.ResponseWriter, r *http.Request) (int, error) {
	p, status, err := h.strip(r.URL.Path)
	if err != nil {
		return status, err
	}
	if status, err := h.checkLocks(r, p, p); err != nil {
		return status, err
	}
	ctx := r.Context()
	mtime := time.Now().UnixNano()
	if s := r.Header.Get("X-OC-Mtime"); s != "" {
		sec, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return http.StatusBadRequest, fmt.Errorf("webdav: X-OC-Mtime %q is not seconds since 1970", s)
		}
		mtime = int64(sec * 1e9)
		w.Header().Set("X-OC-Mtime", "accepted")
	}
	cp, err := clean(p)
	if err != nil {
		return http.StatusForbidden, err
	}
	if isJunk(cp) {
		return h.putJunk(ctx, w, cp, r.Body)
	}
	u, existed, err := h.fs.create(ctx, cp, mtime, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		if errors.Is(err, errIsFolder) {
			return http.StatusMethodNotAllowed, err
		}
		return statusOf(err, http.StatusConflict), err
	}
	fi, err := u.commitFrom(r.Body)
	if err != nil {
		return statusOf(err, http.StatusConflict), err
	}
	etag, _ := fi.ETag(ctx)
	w.Header().Set("ETag", etag)
	if existed {
		return http.StatusNoContent, nil
	}
	return http.StatusCreated, nil
}
