// Package passwd keeps the password that WebDAV and the web UI accept
// besides the API token: an argon2id hash (memory-hard, so a stolen file
// costs an attacker 64 MiB and many milliseconds per guess) in the repo's
// file [File], in the PHC string format
// "$argon2id$v=19$m=65536,t=3,p=2$SALT$HASH".
package passwd

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/argon2"
)

// File is the name of the password file in a repo, mode 0600.
const File = "passwd"

// The argon2id parameters of new hashes (RFC 9106's second recommended
// option, with 2 lanes for 2-core boards).
const (
	memoryKiB = 64 * 1024
	passes    = 3
	lanes     = 2
	saltLen   = 16
	hashLen   = 32
)

// MinLength is the fewest characters a password may have.
const MinLength = 8

var b64 = base64.RawStdEncoding

// Hash returns the argon2id PHC string of password under a fresh salt.
func Hash(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("failed to make a salt: %w", err)
	}
	sum := argon2.IDKey([]byte(password), salt, passes, memoryKiB, lanes, hashLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memoryKiB, passes, lanes, b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// Verify reports whether password is the one encoded (a string from
// [Hash]) was made from.
func Verify(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errors.New("failed to read the password hash: not an argon2id PHC string (set the password again with 'peer passwd')")
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, fmt.Errorf("failed to read the password hash: argon2 version %q (set the password again with 'peer passwd')", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m < 8 || m > 4<<20 || t < 1 || t > 64 || p < 1 {
		return false, fmt.Errorf("failed to read the password hash: parameters %q (set the password again with 'peer passwd')", parts[3])
	}
	salt, err1 := b64.DecodeString(parts[4])
	sum, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(sum) < 16 {
		return false, errors.New("failed to read the password hash: bad salt or hash (set the password again with 'peer passwd')")
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(sum)))
	return subtle.ConstantTimeCompare(got, sum) == 1, nil
}

// Read returns the hash stored in the repo at dir, "" when no password
// was set.
func Read(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, File))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("failed to read %s: %w", File, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Set stores the hash of password in the repo at dir, replacing any
// earlier one; an empty password removes it.
func Set(dir, password string) error {
	path := filepath.Join(dir, File)
	if password == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("failed to remove %s: %w", File, err)
		}
		return nil
	}
	if len([]rune(password)) < MinLength {
		return fmt.Errorf("failed to set the password: it has fewer than %d characters", MinLength)
	}
	h, err := Hash(password)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+File+".tmp*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", File, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(h + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", File, err)
	}
	return nil
}
