package dav

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
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
		conds:
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
					break conds
				case '<':
					end := strings.IndexByte(s, '>')
					if end < 0 {
						return nil, false
					}
					c.Token, s = s[1:end], s[end+1:]
				case '[':
					end := strings.IndexByte(s, ']')
					if end < 0 {
						return nil, false
					}
					c.ETag, s = s[1:end], s[end+1:]
				default:
					return nil, false
				}
				l.conds = append(l.conds, c)
			}
		default:
			return nil, false
		}
	}
}

// checkLocks checks a request that writes names (target is its
// Request-URI's path, which untagged lists of the If header are about):
// the If header, when there is one, must hold for some list (else 412),
// and every lock on the names or below them must have its token in the
// If header (else 423).
func (h *Handler) checkLocks(r *http.Request, target string, names ...string) (int, error) {
	now := time.Now()
	submitted := map[string]bool{}
	if hdr := r.Header.Get("If"); hdr != "" {
		lists, ok := parseIf(hdr)
		if !ok {
			return http.StatusBadRequest, errors.New("webdav: invalid If header")
		}
		held := false
		for _, l := range lists {
			for _, c := range l.conds {
				if c.Token != "" {
					submitted[c.Token] = true
				}
			}
			res := target
			if l.tag != "" {
				u, err := url.Parse(l.tag)
				if err != nil || (u.Host != "" && u.Host != r.Host) {
					continue
				}
				p, _, err := h.strip(u.Path)
				if err != nil {
					continue
				}
				res = p
			}
			if !held && h.listHolds(r.Context(), now, path.Clean("/"+res), l.conds) {
				held = true
			}
		}
		if !held {
			return http.StatusPreconditionFailed, errors.New("webdav: no list of the If header holds")
		}
	}
	for _, name := range names {
		for _, l := range h.locks.blocking(now, path.Clean("/"+name)) {
			if !submitted[l.token] {
				return webdav.StatusLocked, errLocked
			}
		}
	}
	return 0, nil
}

// listHolds evaluates one list of conditions on the resource res.
func (h *Handler) listHolds(ctx context.Context, now time.Time, res string, conds []webdav.Condition) bool {
	for _, c := range conds {
		var ok bool
		if c.Token != "" {
			ok = h.locks.holds(now, c.Token, res)
		} else {
			ok = h.etagOf(ctx, res) == c.ETag && c.ETag != ""
		}
		if ok == c.Not {
			return false
		}
	}
	return true
}

// etagOf returns the ETag of res, "" when it does not exist.
func (h *Handler) etagOf(ctx context.Context, res string) string {
	fi, err := h.fs.Stat(ctx, res)
	if err != nil {
		return ""
	}
	s, err := fi.(*fileInfo).ETag(ctx)
	if err != nil {
		return ""
	}
	return s
}
