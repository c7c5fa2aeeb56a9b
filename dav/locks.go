package dav

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/webdav"
)

// ifList is one parenthesised list of an If header (RFC 4918 10.4), with
// the resource it is tagged with, if any.
type ifList struct {
	tag   string
	conds []webdav.Condition
}

// parseIf parses an If header: untagged lists, or tagged ones, each a
// non-empty list of state tokens and entity tags, either maybe negated.
func parseIf(s string) ([]ifList, bool) {
	var out []ifList
	tag, tagged, untagged := "", false, false
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, len(out) > 0
		}
		switch s[0] {
		case '<':
			end := strings.IndexByte(s, '>')
			if end < 0 || untagged {
				return nil, false
			}
			tag, tagged, s = s[1:end], true, s[end+1:]
			if strings.HasPrefix(strings.TrimLeft(s, " \t"), "<") {
				return nil, false // a tag without lists
			}
		case '(':
			if !tagged {
				untagged = true
			}
			l := ifList{tag: tag}
			s = s[1:]
			for {
				s = strings.TrimLeft(s, " \t")
				var c webdav.Condition
				if strings.HasPrefix(s, "Not") {
					c.Not, s = true, strings.TrimLeft(s[3:], " \t")
				}
				if s == "" {
					return nil, false
				}
				switch s[0] {
				case ')':
					if c.Not || len(l.conds) == 0 {
						return nil, false
					}
					s = s[1:]
					out = append(out, l)
				case '<':
					end := strings.IndexByte(s, '>')
					if end < 0 {
						return nil, false
					}
					c.Token, s = s[1:end], s[end+1:]
					l.conds = append(l.conds, c)
					continue
				case '[':
					end := strings.IndexByte(s, ']')
					if end < 0 {
						return nil, false
					}
					c.ETag, s = s[1:end], s[end+1:]
					l.conds = append(l.conds, c)
					continue
				default:
					return nil, false
				}
				break
			}
		default:
			return nil, false
		}
	}
}

// confirmLocks checks the If header of a request that writes src and dst
// (either may be ""), as x/net/webdav does for the methods it serves:
// without an If header, the request takes short locks of its own, which
// fail where another client holds one; with one, some list must confirm
// the locks. release is called when the request is done.
func (h *Handler) confirmLocks(r *http.Request, src, dst string) (release func(), status int, err error) {
	hdr := r.Header.Get("If")
	if hdr == "" {
		now := time.Now()
		var tokens []string
		release = func() {
			for i := len(tokens) - 1; i >= 0; i-- {
				h.locks.Unlock(now, tokens[i])
			}
		}
		for _, name := range []string{src, dst} {
			if name == "" {
				continue
			}
			tok, err := h.locks.Create(now, webdav.LockDetails{Root: name, Duration: -1, ZeroDepth: true})
			if err != nil {
				release()
				if errors.Is(err, webdav.ErrLocked) {
					return nil, webdav.StatusLocked, err
				}
				return nil, http.StatusInternalServerError, err
			}
			tokens = append(tokens, tok)
		}
		return release, 0, nil
	}
	lists, ok := parseIf(hdr)
	if !ok {
		return nil, http.StatusBadRequest, errors.New("webdav: invalid If header")
	}
	for _, l := range lists {
		lsrc := src
		if l.tag != "" {
			u, err := url.Parse(l.tag)
			if err != nil || u.Host != r.Host {
				continue
			}
			if lsrc, status, err = h.strip(u.Path); err != nil {
				return nil, status, err
			}
		}
		release, err := h.locks.Confirm(time.Now(), lsrc, dst, l.conds...)
		if errors.Is(err, webdav.ErrConfirmationFailed) {
			continue
		}
		if err != nil {
			return nil, http.StatusInternalServerError, err
		}
		return release, 0, nil
	}
	// RFC 4918 10.4.1: when every list fails, 412.
	return nil, http.StatusPreconditionFailed, webdav.ErrLocked
}
