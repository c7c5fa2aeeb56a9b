//go:build unix

package blockstore

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// ownsLock says that lockDir really locks the folder, so Badger's own lock
// guard (the same flock) is bypassed.
const ownsLock = true

// dirLock holds a store folder for one process, as Badger's lock guard
// does: an exclusive flock on the folder.
type dirLock struct{ f *os.File }

// lockDir takes the folder's lock, or returns ErrLocked when another
// process holds it. The folder is locked before it is checked, so no
// check (which may move files) runs on a store another process has open.
func lockDir(dir string) (*dirLock, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to open block store folder %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("failed to open %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("failed to lock block store folder %s: %w", dir, err)
	}
	return &dirLock{f}, nil
}

// unlock releases the lock.
func (l *dirLock) unlock() error {
	return l.f.Close()
}
