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
	existed bool
	pw      *io.PipeWriter
	done    chan struct{}
	fv      *vault.FileVersion // set when done closes, if err is nil
	err     error

	once sync.Once
	fi   *fileInfo
	cerr error // the commit's
}

var _ webdav.DeadPropsHolder = (*upload)(nil)

// startUpload starts writing a version of p that follows prev.
func (fs *FS) startUpload(ctx context.Context, p string, prev cid.Cid, mtime int64, existed bool) *upload {
	pr, pw := io.Pipe()
	u := &upload{fs: fs, ctx: ctx, p: p, existed: existed, pw: pw, done: make(chan struct{})}
	unlock := fs.gc.PinLock(ctx)
	go func() {
		defer close(u.done)
		fv, err := fs.v.WriteFile(ctx, pr, vault.FileInput{Name: path.Base(p), Mode: 0o644, Mtime: mtime, Prev: prev})
		if err == nil {
			fs.hold(fv.CID)
		}
		unlock.Unlock(ctx)
		if err == nil {
			pr.CloseWithError(io.ErrClosedPipe) // a write after the end
		} else {
			pr.CloseWithError(err)
		}
		u.fv, u.err = fv, err
	}()
	return u
}

func (u *upload) Write(b []byte) (int, error) {
	n, err := u.pw.Write(b)
	if err != nil {
		return n, pathErr("write", u.p, err)
	}
	return n, nil
}

// abort drops the upload: nothing is committed.
func (u *upload) abort(err error) {
	u.once.Do(func() {
		u.pw.CloseWithError(err)
		<-u.done
		if u.fv != nil {
			u.fs.release(u.fv.CID)
		}
		u.cerr = err
	})
}

// commit ends the content and puts the version at its path.
func (u *upload) commit() (*fileInfo, error) {
	u.once.Do(func() {
		u.pw.Close()
		<-u.done
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
	u, existed, err := h.fs.create(ctx, cp, mtime, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		if errors.Is(err, errIsFolder) {
			return http.StatusMethodNotAllowed, err
		}
		return statusOf(err, http.StatusConflict), err
	}
	if _, err := io.Copy(u, r.Body); err != nil {
		u.abort(err)
		if u.err != nil {
			return http.StatusInternalServerError, u.err
		}
		return http.StatusBadRequest, fmt.Errorf("webdav: failed to read the body of %s: %w", p, err)
	}
	fi, err := u.commit()
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
