//go:build !unix

package blockstore

// ownsLock says that lockDir does not lock: Badger's own lock guard does.
const ownsLock = false

// dirLock is a no-op where flock is not available.
type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) unlock() error { return nil }
