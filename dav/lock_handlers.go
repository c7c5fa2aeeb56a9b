package dav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/webdav"
)

// lockInfo is what a LOCK body asks for.
type lockInfo struct {
	exclusive, shared, write bool
	owner                    string
}

// readLockInfo parses a LOCK body; empty means a refresh.
func readLockInfo(r io.Reader) (li lockInfo, empty bool, err error) {
	body, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return li, false, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return li, true, nil
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return li, false, fmt.Errorf("webdav: bad LOCK body: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if t.Name.Space != "DAV:" {
				name = "?"
			}
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			switch {
			case len(stack) == 0 && name != "lockinfo":
				return li, false, errors.New("webdav: the LOCK body is not a DAV:lockinfo")
			case parent == "lockscope" && name == "exclusive":
				li.exclusive = true
			case parent == "lockscope" && name == "shared":
				li.shared = true
			case parent == "locktype" && name == "write":
				li.write = true
			case parent == "lockinfo" && name == "owner":
				var inner struct {
					XML string `xml:",innerxml"`
				}
				if err := d.DecodeElement(&inner, &t); err != nil {
					return li, false, fmt.Errorf("webdav: bad LOCK owner: %w", err)
				}
				li.owner = inner.XML
				continue
			}
			stack = append(stack, name)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if li.exclusive == li.shared || !li.write {
		return li, false, errors.New("webdav: LOCK asks for no write lock, or for both scopes")
	}
	return li, false, nil
}

// handleLock creates or refreshes a lock (RFC 4918 9.10); a lock on a
// name with nothing there makes an empty file.
func (h *Handler) handleLock(w http.ResponseWriter, r *http.Request) (int, error) {
	timeout, err := parseTimeout(r.Header.Get("Timeout"))
	if err != nil {
		return http.StatusBadRequest, err
	}
	p, status, err := h.strip(r.URL.Path)
	if err != nil {
		return status, err
	}
	p, err = clean(p)
	if err != nil {
		return http.StatusForbidden, err
	}
	li, refresh, err := readLockInfo(r.Body)
	if err != nil {
		return http.StatusBadRequest, err
	}
	now := time.Now()
	var l *lock
	created := false
	if refresh {
		lists, ok := parseIf(r.Header.Get("If"))
		if !ok || len(lists) != 1 || len(lists[0].conds) != 1 || lists[0].conds[0].Token == "" {
			return http.StatusBadRequest, errors.New("webdav: a refresh names its lock token in the If header")
		}
		if l, err = h.locks.refresh(now, lists[0].conds[0].Token, timeout); err != nil {
			return http.StatusPreconditionFailed, err
		}
	} else {
		zero := false
		switch d := r.Header.Get("Depth"); {
		case d == "0":
			zero = true
		case d == "" || strings.EqualFold(d, "infinity"):
		default:
			return http.StatusBadRequest, errors.New("webdav: LOCK takes Depth 0 or infinity")
		}
		if l, err = h.locks.create(now, lock{root: p, zero: zero, shared: li.shared, owner: li.owner, timeout: timeout}); err != nil {
			if errors.Is(err, errLocked) {
				return webdav.StatusLocked, err
			}
			return http.StatusInternalServerError, err
		}
		if _, err := h.fs.Stat(r.Context(), p); os.IsNotExist(err) {
			f, err := h.fs.OpenFile(r.Context(), p, os.O_WRONLY|os.O_CREATE, 0o644)
			if err == nil {
				err = f.Close()
			}
			if err != nil {
				h.locks.unlock(now, l.token, p)
				return statusOf(err, http.StatusConflict), err
			}
			created = true
		}
		w.Header().Set("Lock-Token", "<"+l.token+">")
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	if created {
		w.WriteHeader(http.StatusCreated)
	}
	writeLock(w, l, h.prefix)
	return 0, nil
}

// writeLock writes the lockdiscovery answer for l.
func writeLock(w io.Writer, l *lock, prefix string) {
	depth, scope, timeout := "infinity", "exclusive", "Infinite"
	if l.zero {
		depth = "0"
	}
	if l.shared {
		scope = "shared"
	}
	if l.timeout >= 0 {
		timeout = fmt.Sprintf("Second-%d", l.timeout/time.Second)
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<D:prop xmlns:D="DAV:"><D:lockdiscovery><D:activelock>
<D:locktype><D:write/></D:locktype>
<D:lockscope><D:%s/></D:lockscope>
<D:depth>%s</D:depth>
<D:owner>%s</D:owner>
<D:timeout>%s</D:timeout>
<D:locktoken><D:href>%s</D:href></D:locktoken>
<D:lockroot><D:href>%s</D:href></D:lockroot>
</D:activelock></D:lockdiscovery></D:prop>`, scope, depth, l.owner, timeout, xmlText(l.token), xmlText(prefix+l.root))
}

func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// handleUnlock removes the lock the Lock-Token header names.
func (h *Handler) handleUnlock(w http.ResponseWriter, r *http.Request) (int, error) {
	t := r.Header.Get("Lock-Token")
	if len(t) < 2 || t[0] != '<' || t[len(t)-1] != '>' {
		return http.StatusBadRequest, errors.New("webdav: UNLOCK needs a Lock-Token header")
	}
	p, status, err := h.strip(r.URL.Path)
	if err != nil {
		return status, err
	}
	p, err = clean(p)
	if err != nil {
		return http.StatusForbidden, err
	}
	if err := h.locks.unlock(time.Now(), t[1:len(t)-1], p); err != nil {
		return http.StatusConflict, err
	}
	return http.StatusNoContent, nil
}

// handleDelete removes a file or a folder with all it holds in one
// change.
func (h *Handler) handleDelete(w http.ResponseWriter, r *http.Request) (int, error) {
	p, status, err := h.strip(r.URL.Path)
	if err != nil {
		return status, err
	}
	if status, err := h.checkLocks(r, p, p); err != nil {
		return status, err
	}
	ctx := r.Context()
	if _, err := h.fs.Stat(ctx, p); err != nil {
		return statusOf(err, http.StatusNotFound), err
	}
	if err := h.fs.RemoveAll(ctx, p); err != nil {
		return http.StatusMethodNotAllowed, err
	}
	if cp, err := clean(p); err == nil {
		h.locks.removeAll(cp)
	}
	return http.StatusNoContent, nil
}

// checkPropfind refuses a PROPFIND body that declares a namespace prefix
// as "" (not allowed by Namespaces in XML 1.0, 5; encoding/xml accepts
// it) and gives the body back for x/net/webdav to read.
func checkPropfind(r *http.Request) (int, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		return http.StatusBadRequest, err
	}
	if len(body) > 1<<20 {
		return http.StatusRequestEntityTooLarge, errors.New("webdav: PROPFIND body over 1 MiB")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.RawToken()
		if err != nil {
			return 0, nil // x/net/webdav judges the rest
		}
		if s, ok := tok.(xml.StartElement); ok {
			for _, a := range s.Attr {
				if a.Name.Space == "xmlns" && a.Value == "" {
					return http.StatusBadRequest, fmt.Errorf("webdav: namespace prefix %q declared empty", a.Name.Local)
				}
			}
		}
	}
}
