//go:build !linux

package blockstore

// preallocator is a no-op where fallocate is not available.
type preallocator struct{}

func startPrealloc(string, interface{ Debug(string, ...any) }) (*preallocator, error) {
	return &preallocator{}, nil
}

func (*preallocator) stop() {}
