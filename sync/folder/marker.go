package folder

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Marker is the folder made at the top of a synced folder when it is
// added. A folder without it (an unmounted disk, a wiped folder) is
// stopped, never read as "everything was deleted".
const Marker = ".peer-folder"

// ErrMarkerMissing is wrapped by the error of a folder whose marker is
// gone.
var ErrMarkerMissing = errors.New("folder marker missing")

// tempPrefix and tempSuffix make the names of files being written from
// the vault, next to their target: .peer.NAME.tmp.
const (
	tempPrefix = ".peer."
	tempSuffix = ".tmp"
)

// tempName is the temporary name for writing name in its folder (a
// hash when the name would be too long).
func tempName(name string) string {
	if t := tempPrefix + name + tempSuffix; len(t) <= 255 {
		return t
	}
	h := sha256.Sum256([]byte(name))
	return tempPrefix + hex.EncodeToString(h[:16]) + tempSuffix
}

// isTemp reports whether name is one of the temporary files.
func isTemp(name string) bool {
	return strings.HasPrefix(name, tempPrefix) && strings.HasSuffix(name, tempSuffix)
}

// reserved reports whether rel is the folder's own: the marker, the
// ignore file or a temporary file. These are never synced.
func reserved(rel string) bool {
	if rel == Marker || rel == IgnoreFile {
		return true
	}
	_, name := parent(rel)
	return isTemp(name)
}

// makeMarker makes dir (and its parents) and the marker in it.
func makeMarker(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, Marker), 0o755); err != nil {
		return fmt.Errorf("failed to make the folder marker in %s: %w", dir, err)
	}
	return syncDir(dir)
}

// checkMarker fails when the folder or its marker is gone.
func checkMarker(dir string) error {
	fi, err := os.Lstat(filepath.Join(dir, Marker))
	if err == nil && fi.IsDir() {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("failed to read the folder marker %s: %w", filepath.Join(dir, Marker), err)
	}
	return fmt.Errorf("%s: %w (is its disk unmounted?): nothing is synced until it is back; if the folder is meant to be empty now, 'peer sync rm' it and add it again: %w",
		dir, ErrMarkerMissing, fs.ErrNotExist)
}

// caseInsensitive probes whether the folder's file system treats names
// that differ in case as one, with a file in the marker.
func caseInsensitive(dir string) (bool, error) {
	p := filepath.Join(dir, Marker, "case-Probe")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		return false, fmt.Errorf("failed to probe the file system of %s: %w", dir, err)
	}
	defer os.Remove(p)
	_, err := os.Lstat(filepath.Join(dir, Marker, "CASE-pROBE"))
	return err == nil, nil
}
