package dav

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/peer-cloud/peer/vault"
)

// Move moves src to dst in one vault change, replacing what is at dst
// when overwrite allows; created says dst was new. Nothing is
// re-encrypted: the entry (a file version, or a folder and all it holds)
// only changes its place.
func (fs *FS) Move(ctx context.Context, src, dst string, overwrite bool) (created bool, err error) {
	return fs.copyMove(ctx, "move", src, dst, overwrite, func(ctx context.Context, t *vault.Tree, src, dst string, _ vault.Entry) error {
		return t.Move(ctx, src, dst)
	})
}

// Copy copies src to dst in one vault change, replacing what is at dst
// when overwrite allows; created says dst was new. A file's copy is the
// same version (no re-encryption); a folder's is a new folder (its own
// key, so that merges tell the two apart) holding the same versions, and
// with shallow only the folder itself.
func (fs *FS) Copy(ctx context.Context, src, dst string, overwrite, shallow bool) (created bool, err error) {
	return fs.copyMove(ctx, "copy", src, dst, overwrite, func(ctx context.Context, t *vault.Tree, src, dst string, se vault.Entry) error {
		if se.Kind == vault.KindFile {
			return t.Put(ctx, dst, se)
		}
		return copyDir(ctx, t, src, dst, se, shallow)
	})
}

// copyDir makes dst a folder holding what src holds.
func copyDir(ctx context.Context, t *vault.Tree, src, dst string, se vault.Entry, shallow bool) error {
	if err := t.Mkdir(ctx, dst, false, se.Mtime); err != nil {
		return err
	}
	if shallow {
		return nil
	}
	es, err := t.List(ctx, src)
	if err != nil {
		return err
	}
	for _, e := range es {
		s, d := path.Join(src, e.Name), path.Join(dst, e.Name)
		if e.Kind == vault.KindFile {
			err = t.Put(ctx, d, e)
		} else {
			err = copyDir(ctx, t, s, d, e, false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// copyMove checks src and dst, clears dst when overwrite allows, and
// runs op in the same change; then the dead properties follow.
func (fs *FS) copyMove(ctx context.Context, what, srcName, dstName string, overwrite bool, op func(ctx context.Context, t *vault.Tree, src, dst string, se vault.Entry) error) (created bool, err error) {
	src, err := clean(srcName)
	if err != nil {
		return false, pathErr(what, srcName, err)
	}
	dst, err := clean(dstName)
	if err != nil {
		return false, pathErr(what, dstName, err)
	}
	if src == "/" || dst == "/" || src == dst || within(dst, src) || within(src, dst) {
		return false, pathErr(what, srcName, errIntoItself)
	}
	if _, ok := fs.junk.get(src); ok {
		return fs.junkCopyMove(ctx, src, dst, overwrite, what == "move")
	}
	_, err = fs.acct.Change(ctx, false, func(ctx context.Context, t *vault.Tree) error {
		se, err := t.Stat(ctx, src)
		if err != nil {
			return err
		}
		pe, err := t.Stat(ctx, path.Dir(dst))
		if errors.Is(err, vault.ErrNotExist) || (err == nil && pe.Kind != vault.KindDir) {
			return errNoParent
		}
		if err != nil {
			return err
		}
		created = false
		switch _, err := t.Stat(ctx, dst); {
		case errors.Is(err, vault.ErrNotExist):
			created = true
		case err != nil:
			return err
		case !overwrite:
			return errDestExists
		default:
			if _, err := t.Remove(ctx, dst); err != nil {
				return err
			}
		}
		return op(ctx, t, src, dst, se)
	})
	if err != nil {
		return false, pathErr(what, srcName, err)
	}
	fs.junk.remove(dst)
	if what == "move" {
		fs.junk.move(src, dst)
	}
	if err := fs.props.removeAll(ctx, dst); err != nil {
		return created, err
	}
	return created, fs.props.copy(ctx, src, dst, what == "move")
}

// within reports whether p is below dir.
func within(p, dir string) bool {
	return strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// handleCopyMove answers COPY and MOVE (RFC 4918 9.8, 9.9) as one vault
// change each, where x/net/webdav would remove, then copy file by file
// with new encryptions.
func (h *Handler) handleCopyMove(w http.ResponseWriter, r *http.Request) (int, error) {
	hdr := r.Header.Get("Destination")
	if hdr == "" {
		return http.StatusBadRequest, errors.New("webdav: no Destination header")
	}
	u, err := url.Parse(hdr)
	if err != nil {
		return http.StatusBadRequest, errors.New("webdav: invalid Destination header")
	}
	if u.Host != "" && u.Host != r.Host {
		return http.StatusBadGateway, errors.New("webdav: the Destination is on another server")
	}
	src, status, err := h.strip(r.URL.Path)
	if err != nil {
		return status, err
	}
	dst, status, err := h.strip(u.Path)
	if err != nil {
		return status, err
	}
	if dst == "" {
		return http.StatusBadGateway, errors.New("webdav: invalid Destination header")
	}
	if path.Clean("/"+src) == path.Clean("/"+dst) {
		return http.StatusForbidden, errors.New("webdav: the Destination is the source")
	}
	// RFC 4918 10.6: no Overwrite header means T.
	overwrite := r.Header.Get("Overwrite") != "F"
	ctx := r.Context()
	var created bool
	if r.Method == "COPY" {
		// A COPY locks only its destination (RFC 4918 7.5; litmus
		// copies a source locked by another).
		if status, err := h.checkLocks(r, src, dst); err != nil {
			return status, err
		}
		shallow := false
		switch d := r.Header.Get("Depth"); {
		case d == "0":
			shallow = true
		case d == "" || strings.EqualFold(d, "infinity"):
		default:
			return http.StatusBadRequest, errors.New("webdav: COPY takes Depth 0 or infinity")
		}
		created, err = h.fs.Copy(ctx, src, dst, overwrite, shallow)
	} else {
		if status, err := h.checkLocks(r, src, src, dst); err != nil {
			return status, err
		}
		if d := r.Header.Get("Depth"); d != "" && !strings.EqualFold(d, "infinity") {
			return http.StatusBadRequest, errors.New("webdav: MOVE takes Depth infinity only")
		}
		created, err = h.fs.Move(ctx, src, dst, overwrite)
	}
	if err != nil {
		return statusOf(err, http.StatusNotFound), err
	}
	if r.Method == "MOVE" {
		h.locks.removeAll(src) // locks stay with the name, which is gone
	}
	if created {
		return http.StatusCreated, nil
	}
	return http.StatusNoContent, nil
}
