package daemon_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// litmusSuites are the suites issue 13 asks to pass with no failures.
const litmusSuites = "basic copymove props locks http"

// TestDAVLitmus runs Debian's litmus against /dav/ of a real daemon on
// 127.0.0.1, logging in with the API token as password.
func TestDAVLitmus(t *testing.T) {
	bin, err := exec.LookPath("litmus")
	if err != nil {
		t.Skip("litmus is not installed (apt-get install litmus): the WebDAV conformance suites did not run")
	}
	d, c := start(t)
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), bin, "-k", d.APIURL()+"/dav/", "litmus", c.Token)
	cmd.Dir = dir // litmus writes debug.log and child.log here
	if s := os.Getenv("LITMUS_KEEP"); s != "" {
		cmd.Dir = s
	}
	cmd.Env = append(os.Environ(), "TESTS="+litmusSuites)
	out, err := cmd.CombinedOutput()
	t.Logf("litmus:\n%s", out)
	if err != nil {
		if dbg, rerr := os.ReadFile(dir + "/debug.log"); rerr == nil && len(dbg) < 200_000 {
			t.Logf("debug.log:\n%s", dbg)
		}
		t.Fatalf("litmus failed: %v", err)
	}
	sums := regexp.MustCompile("summary for `(\\w+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed").FindAllStringSubmatch(string(out), -1)
	ran := map[string]bool{}
	for _, m := range sums {
		ran[m[1]] = true
		if m[4] != "0" {
			t.Errorf("litmus %s: %s of %s tests failed", m[1], m[4], m[2])
		}
	}
	for _, s := range strings.Fields(litmusSuites) {
		if !ran[s] {
			t.Errorf("litmus did not report on suite %s", s)
		}
	}
}
