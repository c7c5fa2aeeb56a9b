package lantest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
)

// built holds the binaries built by this test process, by package.
var built struct {
	mu   sync.Mutex
	bins map[string]*binary
}

type binary struct {
	once sync.Once
	path string
	err  error
}

// Binary builds the command in package pkg once per test process and
// returns its path.
func Binary(t TB, pkg string) string {
	t.Helper()
	built.mu.Lock()
	if built.bins == nil {
		built.bins = map[string]*binary{}
	}
	b := built.bins[pkg]
	if b == nil {
		b = &binary{}
		built.bins[pkg] = b
	}
	built.mu.Unlock()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "peer-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, path.Base(pkg))
		touchSources()
		out, err := exec.Command("go", "build", "-o", b.path, pkg).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s: %v: %s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// RemoveBinaries deletes the binaries this process built (each is some
// 60 MB in a folder of its own under the temporary folder, which a run
// of the bench or the LAN tests otherwise leaves behind). Call it once
// nothing runs them any more: from TestMain after m.Run, or at a
// command's exit.
func RemoveBinaries() {
	built.mu.Lock()
	defer built.mu.Unlock()
	for pkg, b := range built.bins {
		if b.path != "" {
			os.RemoveAll(filepath.Dir(b.path))
		}
		delete(built.bins, pkg)
	}
}
