package blockstore

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimMappings drops this process's resident pages of the memory-mapped
// files under dir (Badger's value log, tables and memtables). Badger maps
// its files shared, so MADV_DONTNEED only unmaps pages: their data stays in
// the page cache and on disk, and the next access maps them in again. This
// bounds the file-backed part of the daemon's RSS, which otherwise grows
// with every byte written or read.
func trimMappings(dir string) error {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return fmt.Errorf("failed to read memory maps: %w", err)
	}
	defer f.Close()
	prefix := strings.TrimRight(dir, "/") + "/"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "start-end perms offset dev inode path"
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || !strings.HasPrefix(fields[5], prefix) || !strings.Contains(fields[1], "s") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		// A raw syscall: the range is not Go memory, so no slice of it.
		// A failure leaves the pages resident, which is harmless.
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
	return sc.Err()
}
