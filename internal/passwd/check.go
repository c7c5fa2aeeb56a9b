package passwd

import (
	"crypto/sha256"
	"crypto/subtle"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Checker tells whether a password opens the repo: the API token, or the
// password 'peer passwd' set in the repo's [File]. WebDAV and the web UI
// ask it. It re-reads the file when it changed (so 'peer passwd' needs no
// restart) and remembers the passwords that passed, since argon2id is
// slow on purpose and WebDAV clients send the password with every
// request. The zero value with Token and Dir set is ready to use.
type Checker struct {
	Token string // the API token; "" takes none
	Dir   string // the repo folder holding [File]; "" takes no password

	mu    sync.Mutex
	hash  string    // the password file's hash, as last read
	mod   time.Time // the file's mtime then
	sized int64
	good  map[[32]byte]bool // passwords verified against hash
}

// maxGood bounds the verified passwords remembered.
const maxGood = 16

// verifying lets one argon2id run at a time in the process: each takes
// 64 MiB.
var verifying sync.Mutex

// Check reports whether pass is the token or the stored password.
func (c *Checker) Check(pass string) bool {
	if c.Token != "" && subtle.ConstantTimeCompare([]byte(pass), []byte(c.Token)) == 1 {
		return true
	}
	return c.checkPassword(pass)
}

func (c *Checker) checkPassword(pass string) bool {
	if c.Dir == "" || pass == "" {
		return false
	}
	hash, ok := c.currentHash()
	if !ok || hash == "" {
		return false
	}
	key := sha256.Sum256([]byte(hash + "\x00" + pass))
	c.mu.Lock()
	known := c.good[key]
	c.mu.Unlock()
	if known {
		return true
	}
	verifying.Lock()
	match, err := Verify(hash, pass)
	verifying.Unlock()
	if err != nil || !match {
		return false
	}
	c.mu.Lock()
	if c.good == nil || len(c.good) >= maxGood {
		c.good = map[[32]byte]bool{}
	}
	c.good[key] = true
	c.mu.Unlock()
	return true
}

// currentHash returns the stored hash, "" when no password is set.
func (c *Checker) currentHash() (string, bool) {
	st, err := os.Stat(filepath.Join(c.Dir, File))
	if os.IsNotExist(err) {
		return "", true
	}
	if err != nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hash != "" && st.ModTime().Equal(c.mod) && st.Size() == c.sized {
		return c.hash, true
	}
	h, err := Read(c.Dir)
	if err != nil {
		return "", false
	}
	c.hash, c.mod, c.sized, c.good = h, st.ModTime(), st.Size(), nil
	return h, true
}
