//go:build !linux

package folder

import "os"

// renameNew renames from to to; the caller checked that to is free.
func renameNew(from, to string) error { return os.Rename(from, to) }
