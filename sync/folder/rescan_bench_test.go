package folder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestRescanCost times full scans of a folder of PEER_FOLDER_RESCAN files
// (100000 in issue 10) with nothing changed; run with -cpuprofile to see
// where the time goes.
func TestRescanCost(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PEER_FOLDER_RESCAN"))
	if n == 0 {
		t.Skip("PEER_FOLDER_RESCAN=N times rescans of N files")
	}
	d := newDev(t)
	dir := t.TempDir()
	for k := range n {
		p := filepath.Join(dir, fmt.Sprintf("d%03d", k%1000), fmt.Sprintf("f%06d.txt", k))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, IgnoreFile), []byte("// nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.add(dir, "/Huge")
	eventually(t, 10*time.Minute, "the first scan", func() bool {
		s := d.status(dir)
		return s.Files == n && s.Pending == 0 && s.State == StateIdle
	})
	d.svc.mu.Lock()
	f := d.svc.folders[filepath.Clean(dir)].f
	d.svc.mu.Unlock()
	for range 3 {
		began := time.Now()
		if err := f.scan(context.Background(), []string{""}); err != nil {
			t.Fatal(err)
		}
		t.Logf("rescan of %d files with nothing changed: %v", n, time.Since(began))
	}
}
