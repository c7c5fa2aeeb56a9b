package dav

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/peer-cloud/peer/internal/passwd"
)

// Auth lets a request through with HTTP Basic auth, any user name, and
// as password the API token or the password 'peer passwd' set (what
// WebDAV clients such as litmus, rclone, Finder and Windows send); a
// Bearer token as the API takes it works too.
type Auth struct {
	Token string // the API token
	Dir   string // the repo folder, holding passwd.File

	mu     sync.Mutex
	hash   string    // the password file's hash, as last read
	mod    time.Time // the file's mtime then
	sized  int64
	good   map[[32]byte]bool // passwords verified against hash
	verify sync.Mutex        // one argon2id at a time: each takes 64 MiB
}

// maxGood bounds the verified passwords remembered.
const maxGood = 16

// Wrap returns next behind the check.
func (a *Auth) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowed(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="peer", charset="UTF-8"`)
			http.Error(w, "log in with any user name and the API token (the repo's api.token) or the password set with 'peer passwd'", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *Auth) allowed(r *http.Request) bool {
	pass := ""
	if h := r.Header.Get("Authorization"); len(h) > 7 && h[:7] == "Bearer " {
		pass = h[7:]
	} else if _, p, ok := r.BasicAuth(); ok {
		pass = p
	} else {
		return false
	}
	if a.Token != "" && subtle.ConstantTimeCompare([]byte(pass), []byte(a.Token)) == 1 {
		return true
	}
	return a.checkPassword(pass)
}

// checkPassword verifies pass against the stored hash, re-reading the
// file when it changed (so 'peer passwd' needs no restart), and
// remembers the passwords that passed: clients send the password with
// every request, and argon2id is slow on purpose.
func (a *Auth) checkPassword(pass string) bool {
	if a.Dir == "" || pass == "" {
		return false
	}
	hash, ok := a.currentHash()
	if !ok || hash == "" {
		return false
	}
	key := sha256.Sum256([]byte(hash + "\x00" + pass))
	a.mu.Lock()
	known := a.good[key]
	a.mu.Unlock()
	if known {
		return true
	}
	a.verify.Lock()
	match, err := passwd.Verify(hash, pass)
	a.verify.Unlock()
	if err != nil || !match {
		return false
	}
	a.mu.Lock()
	if a.good == nil || len(a.good) >= maxGood {
		a.good = map[[32]byte]bool{}
	}
	a.good[key] = true
	a.mu.Unlock()
	return true
}

// currentHash returns the stored hash, "" when no password is set.
func (a *Auth) currentHash() (string, bool) {
	st, err := os.Stat(filepath.Join(a.Dir, passwd.File))
	if os.IsNotExist(err) {
		return "", true
	}
	if err != nil {
		return "", false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hash != "" && st.ModTime().Equal(a.mod) && st.Size() == a.sized {
		return a.hash, true
	}
	h, err := passwd.Read(a.Dir)
	if err != nil {
		return "", false
	}
	a.hash, a.mod, a.sized, a.good = h, st.ModTime(), st.Size(), nil
	return h, true
}
