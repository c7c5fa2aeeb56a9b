package dav

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"
)

// lockSystem holds WebDAV write locks (RFC 4918 6, 9.10) in memory,
// exclusive and shared (x/net/webdav's MemLS has no shared locks): locks
// are for clients working at the same time, and a restart ends them.
type lockSystem struct {
	mu     sync.Mutex
	tokens map[string]*lock
}

// lock is one lock on a name, and with infinite depth on all below it.
type lock struct {
	token   string
	root    string
	zero    bool // depth 0
	shared  bool
	owner   string // the <owner> XML as sent
	timeout time.Duration
	expires time.Time // zero: never
}

// ErrLocked reports a lock conflict; the handler answers 423.
var errLocked = errors.New("webdav: locked by another lock")

func newLockSystem() *lockSystem { return &lockSystem{tokens: map[string]*lock{}} }

// covers reports whether l applies to name.
func (l *lock) covers(name string) bool {
	return l.root == name || (!l.zero && within(name, l.root)) || (!l.zero && l.root == "/")
}

// overlaps reports whether l and a lock of root (depth 0 when zero)
// could both apply to some name.
func (l *lock) overlaps(root string, zero bool) bool {
	return l.covers(root) || (!zero && (within(l.root, root) || root == "/"))
}

func (ls *lockSystem) expire(now time.Time) {
	for t, l := range ls.tokens {
		if !l.expires.IsZero() && now.After(l.expires) {
			delete(ls.tokens, t)
		}
	}
}

// create adds a lock unless one that conflicts is there (any exclusive
// lock, or a shared one when this is exclusive).
func (ls *lockSystem) create(now time.Time, l lock) (*lock, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.expire(now)
	for _, o := range ls.tokens {
		if o.overlaps(l.root, l.zero) && !(o.shared && l.shared) {
			return nil, errLocked
		}
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("failed to make a lock token: %w", err)
	}
	// A random (version 4) UUID URN: short, as litmus fits a token and
	// two ETags into an If header of 200 bytes.
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	l.token = fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	if l.timeout >= 0 {
		l.expires = now.Add(l.timeout)
	}
	ls.tokens[l.token] = &l
	c := l
	return &c, nil
}

// refresh restarts the timeout of the lock token.
func (ls *lockSystem) refresh(now time.Time, token string, timeout time.Duration) (*lock, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.expire(now)
	l := ls.tokens[token]
	if l == nil {
		return nil, webdav.ErrNoSuchLock
	}
	l.timeout, l.expires = timeout, time.Time{}
	if timeout >= 0 {
		l.expires = now.Add(timeout)
	}
	c := *l
	return &c, nil
}

// unlock removes the lock token, which must apply to name.
func (ls *lockSystem) unlock(now time.Time, token, name string) error {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.expire(now)
	l := ls.tokens[token]
	if l == nil || !l.covers(name) {
		return webdav.ErrNoSuchLock
	}
	delete(ls.tokens, token)
	return nil
}

// removeAll drops the locks on name and below it, which are gone.
func (ls *lockSystem) removeAll(name string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for t, l := range ls.tokens {
		if l.root == name || within(l.root, name) {
			delete(ls.tokens, t)
		}
	}
}

// blocking returns the locks that a write of name (and, for a folder,
// of all below it) must name in its If header.
func (ls *lockSystem) blocking(now time.Time, name string) []*lock {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.expire(now)
	var out []*lock
	for _, l := range ls.tokens {
		if l.covers(name) || within(l.root, name) {
			out = append(out, l)
		}
	}
	return out
}

// holds reports whether token is a lock that applies to name.
func (ls *lockSystem) holds(now time.Time, token, name string) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.expire(now)
	l := ls.tokens[token]
	return l != nil && l.covers(name)
}

// checked is the lock system x/net/webdav sees: this package checks
// locks before handing it a request, so it confirms everything.
type checked struct{}

func (checked) Confirm(time.Time, string, string, ...webdav.Condition) (func(), error) {
	return func() {}, nil
}

func (checked) Create(time.Time, webdav.LockDetails) (string, error) { return "checked", nil }

func (checked) Refresh(time.Time, string, time.Duration) (webdav.LockDetails, error) {
	return webdav.LockDetails{}, webdav.ErrNoSuchLock
}

func (checked) Unlock(time.Time, string) error { return nil }

// parseTimeout reads a Timeout header (RFC 4918 10.7): its first value,
// "Infinite" or "Second-N"; -1 means infinite.
func parseTimeout(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.Split(s, ",")[0])
	switch {
	case s == "" || strings.EqualFold(s, "Infinite"):
		return -1, nil
	case strings.HasPrefix(s, "Second-"):
		var n uint32
		if _, err := fmt.Sscanf(s[len("Second-"):], "%d", &n); err != nil {
			return 0, fmt.Errorf("webdav: bad Timeout %q", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	return 0, fmt.Errorf("webdav: bad Timeout %q", s)
}
