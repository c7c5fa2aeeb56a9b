// Package dav serves the account's vault over WebDAV (RFC 4918, classes 1
// and 2), so file managers can mount it: golang.org/x/net/webdav over a
// [FS] of this package, with in-memory locks and dead properties kept in
// the datastore.
//
// Every write is one vault change, which syncs to the account's other
// devices like any other: a PUT streams its body into a new file version
// and commits it; MOVE and COPY are tree operations that re-encrypt
// nothing (a copied file is the same version; a copied folder is a new
// folder holding the same file versions). ETags are version CIDs, and a
// ranged GET reads only the chunks the range covers.
package dav

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"

	"golang.org/x/net/webdav"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/blockstore"
)

// Config is what a [Handler] serves.
type Config struct {
	Account *account.Account
	Store   *blockstore.Store
	// Prefix is the URL path the tree is served under, such as "/dav".
	Prefix string
	Log    *slog.Logger // nil: quiet
}

// Handler serves WebDAV. PUT, COPY, MOVE, DELETE, LOCK and UNLOCK are
// its own (streamed uploads, one vault change each, no re-encryption,
// shared locks); it checks locks for every method that writes, and
// hands the others to x/net/webdav over the same [FS].
type Handler struct {
	fs     *FS
	locks  *lockSystem
	dav    *webdav.Handler
	prefix string
	log    *slog.Logger
}

// New returns a handler for cfg.
func New(cfg Config) *Handler {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fs := NewFS(cfg.Account, cfg.Store, log)
	h := &Handler{fs: fs, locks: newLockSystem(), prefix: strings.TrimSuffix(cfg.Prefix, "/"), log: log}
	h.dav = &webdav.Handler{
		Prefix:     h.prefix,
		FileSystem: fs,
		LockSystem: checked{},
		Logger: func(r *http.Request, err error) {
			if err != nil {
				log.Debug("webdav request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
		},
	}
	return h
}

// FileSystem returns the file system the handler serves.
func (h *Handler) FileSystem() *FS { return h.fs }

// ServeHTTP answers one WebDAV request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var status int
	var err error
	switch r.Method {
	case http.MethodPut:
		status, err = h.handlePut(w, r)
	case "COPY", "MOVE":
		status, err = h.handleCopyMove(w, r)
	case http.MethodDelete:
		status, err = h.handleDelete(w, r)
	case "LOCK":
		status, err = h.handleLock(w, r)
	case "UNLOCK":
		status, err = h.handleUnlock(w, r)
	case "MKCOL", "PROPPATCH":
		p, st, perr := h.strip(r.URL.Path)
		if perr == nil {
			st, perr = h.checkLocks(r, p, p)
		}
		if perr != nil {
			status, err = st, perr
			break
		}
		h.dav.ServeHTTP(w, r)
		return
	case "PROPFIND":
		// Depth: infinity would walk the whole vault in one answer
		// (RFC 4918 9.1 lets a server refuse it); a request without a
		// Depth gets the folder and what it holds.
		d := r.Header.Get("Depth")
		if d == "" {
			r.Header.Set("Depth", "1")
		}
		if strings.EqualFold(d, "infinity") {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>`))
			return
		}
		if status, err = checkPropfind(r); err != nil {
			break
		}
		h.dav.ServeHTTP(w, r)
		return
	case http.MethodGet, http.MethodHead:
		// The type from the name, as PROPFIND says it, and no sniffing
		// (which reads and decrypts the first chunk again).
		if p, _, err := h.strip(r.URL.Path); err == nil {
			if fi, err := h.fs.Stat(r.Context(), p); err == nil && !fi.IsDir() {
				w.Header().Set("Content-Type", contentType(p))
			}
		}
		h.dav.ServeHTTP(w, r)
		return
	default:
		h.dav.ServeHTTP(w, r)
		return
	}
	if err != nil {
		h.log.Debug("webdav request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	if status != 0 {
		w.WriteHeader(status)
		if status != http.StatusNoContent {
			w.Write([]byte(webdav.StatusText(status)))
		}
	}
}

// errPrefixMismatch reports a URL outside the handler's prefix.
var errPrefixMismatch = errors.New("webdav: the URL is outside the served prefix")

// strip returns the tree path of a URL path.
func (h *Handler) strip(p string) (string, int, error) {
	if h.prefix == "" {
		return p, 0, nil
	}
	if r := strings.TrimPrefix(p, h.prefix); len(r) < len(p) && (r == "" || r[0] == '/') {
		return r, 0, nil
	}
	return p, http.StatusNotFound, errPrefixMismatch
}

// contentType names a file's media type from its extension.
func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// statusOf gives an FS error its status: missing is the status for a
// path (or its parent) that does not exist.
func statusOf(err error, missing int) int {
	switch {
	case errors.Is(err, errNoParent):
		return http.StatusConflict
	case errors.Is(err, errDestExists):
		return http.StatusPreconditionFailed
	case errors.Is(err, errIntoItself), errors.Is(err, errIsFolder), errors.Is(err, os.ErrInvalid):
		return http.StatusForbidden
	case os.IsNotExist(err):
		return missing
	}
	return http.StatusInternalServerError
}
