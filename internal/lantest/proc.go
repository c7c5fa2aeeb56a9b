package lantest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mem reads the anonymous resident memory (RssAnon) and the whole
// resident set (VmRSS) of a process, in bytes.
func Mem(pid int) (anon, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "RssAnon:":
			anon = v << 10
		case "VmRSS:":
			rss = v << 10
		}
	}
	return anon, rss, nil
}
