//go:build !linux

package folder

import "os"

// renameNew renames from to to; the caller checked that to is free.
func renameNew(from, to string) error { return os.Rename(from, to) }

// syncFiles makes the files (written, not yet synced) durable.
func syncFiles(paths []string) error { return fsyncEach(paths) }
