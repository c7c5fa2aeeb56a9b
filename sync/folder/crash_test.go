package folder

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/peer-cloud/peer/repo"
)

// TestKillDuringApply: a daemon killed (SIGKILL) while writing vault
// files to disk leaves no partial file at any target, and the next start
// completes the write without making new versions.
func TestKillDuringApply(t *testing.T) {
	if os.Getenv("PEER_KILL_REPO") != "" {
		killChild(t)
		return
	}
	r := newRepo(t)
	d := openDev(t, r, Options{})
	files := map[string][]byte{}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		files[n] = randBytes(1<<20 + len(n))
		d.put("/C/"+n, files[n])
	}
	d.close()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringApply$", "-test.v")
	cmd.Env = append(os.Environ(), "PEER_KILL_REPO="+r.Dir, "PEER_KILL_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed (%v):\n%s", err, out)
	}
	placed := 0
	for n, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err == nil {
			placed++
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: a partial or wrong file (%d of %d bytes) at the target", n, len(got), len(want))
			}
		}
	}
	if placed == 0 || placed == len(files) {
		t.Fatalf("%d of %d files placed before the kill; the hook should stop in between", placed, len(files))
	}
	r2, err := repo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	d2 := openDev(t, r2, Options{})
	eventually(t, bound, "all files after restart", func() bool {
		for n, want := range files {
			if !hasFile(filepath.Join(dir, n), want) {
				return false
			}
		}
		des, _ := os.ReadDir(dir)
		for _, de := range des {
			if strings.HasSuffix(de.Name(), tempSuffix) {
				return false
			}
		}
		return len(des) == len(files)+1 // and the marker
	})
	for n := range files {
		vs, err := d2.acct.Vault().Versions(context.Background(), d2.acct.Head().CID, "/C/"+n)
		if err != nil || len(vs) != 1 {
			t.Fatalf("%s: %d versions (%v); the restart committed what it had written", n, len(vs), err)
		}
	}
}

// killChild adds the folder and kills itself after the second file is
// renamed into place.
func killChild(t *testing.T) {
	r, err := repo.Open(os.Getenv("PEER_KILL_REPO"))
	if err != nil {
		t.Fatal(err)
	}
	var renamed atomic.Int32
	d := openDev(t, r, Options{hook: func(stage, rel string) {
		if stage == "renamed" && renamed.Add(1) == 2 {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}})
	d.add(os.Getenv("PEER_KILL_DIR"), "/C")
	time.Sleep(30 * time.Second) // the hook kills the process long before
	t.Fatal("not killed")
}
