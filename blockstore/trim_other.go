//go:build !linux

package blockstore

// trimMappings is a no-op where MADV_DONTNEED on /proc/self/maps is not
// available.
func trimMappings(string) error { return nil }
