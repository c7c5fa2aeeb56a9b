package folder

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// renameNew renames from to to, failing with fs.ErrExist if to exists
// (RENAME_NOREPLACE), so a file that appeared since the check is never
// replaced. File systems without it get a plain rename after the check.
func renameNew(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return os.Rename(from, to)
	}
	if errors.Is(err, unix.EEXIST) {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrExist}
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}
