package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peer-cloud/peer/internal/lantest"
)

// TestSystemdUnit: contrib/peer.service is a unit systemd accepts, with
// ExecStart pointed at a real build (systemd-analyze checks it exists and
// is executable).
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
	}
	unit, err := os.ReadFile("../contrib/peer.service")
	if err != nil {
		t.Fatal(err)
	}
	bin := lantest.PeerBinary(t)
	text := strings.Replace(string(unit), "ExecStart=/usr/local/bin/peer ", "ExecStart="+bin+" ", 1)
	if text == string(unit) {
		t.Fatal("the unit has no ExecStart=/usr/local/bin/peer line")
	}
	path := filepath.Join(t.TempDir(), "peer.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	// verify also complains of other units of the machine (a container
	// without systemd running has odd ones); only lines about ours count.
	var ours []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "peer.service") {
			ours = append(ours, line)
		}
	}
	if len(ours) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, strings.Join(ours, "\n"))
	}
	if err != nil && len(out) == 0 {
		t.Fatalf("systemd-analyze verify failed: %v", err)
	}
}
