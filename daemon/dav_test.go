package daemon_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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

// TestDAVRclone drives rclone (a webdav remote) against /dav/ of a real
// daemon on 127.0.0.1: copy, sync and check both ways, with check
// comparing the bytes, and the vault API reading what rclone wrote.
func TestDAVRclone(t *testing.T) {
	bin, err := exec.LookPath("rclone")
	if err != nil {
		t.Skip("rclone is not installed (apt-get install rclone): the rclone round trips did not run")
	}
	ctx := t.Context()
	d, c := start(t)
	work := t.TempDir()
	rclone := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--config", filepath.Join(work, "rclone.conf"), "--retries", "1", "--low-level-retries", "1", "-q"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("rclone %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	pass := strings.TrimSpace(rclone("obscure", c.Token))
	for _, vendor := range []string{"other", "owncloud"} {
		t.Run(vendor, func(t *testing.T) {
			remote := fmt.Sprintf(":webdav,url='%s/dav/',vendor=%s,user=peer,pass='%s':%s", d.APIURL(), vendor, pass, vendor)
			local := filepath.Join(work, vendor, "local")
			makeTree(t, local)
			// Up: copy, then check with bytes compared.
			rclone("copy", local, remote+"/up")
			rclone("check", "--download", local, remote+"/up")
			rclone("check", "--download", remote+"/up", local)
			want, _ := os.ReadFile(filepath.Join(local, "big.bin"))
			resp, err := c.VaultCat(ctx, "/"+vendor+"/up/big.bin", "", 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal(got, want) {
				t.Fatalf("peer cat of what rclone wrote: %d bytes that differ from the %d sent", len(got), len(want))
			}
			if vendor == "owncloud" {
				// rclone sent X-OC-Mtime: the vault keeps the local times.
				st, _ := os.Stat(filepath.Join(local, "big.bin"))
				es, err := c.VaultLs(ctx, "/"+vendor+"/up/big.bin")
				if err != nil || len(es) != 1 || es[0].Mtime.Unix() != st.ModTime().Unix() {
					t.Fatalf("mtime in the vault %v (%v); want the local %v", es, err, st.ModTime())
				}
			}
			// Changes, then sync up: the vault follows, removals too.
			os.WriteFile(filepath.Join(local, "a", "edited.txt"), []byte("edited, and longer than before"), 0o644)
			os.Remove(filepath.Join(local, "a", "b", "gone.txt"))
			os.WriteFile(filepath.Join(local, "new.txt"), []byte("new"), 0o644)
			rclone("sync", local, remote+"/up")
			rclone("check", "--download", local, remote+"/up")
			if _, err := c.VaultLs(ctx, "/"+vendor+"/up/a/b/gone.txt"); err == nil {
				t.Fatal("sync left a file removed locally in the vault")
			}
			// Down: what the vault holds comes back byte for byte.
			back := filepath.Join(work, vendor, "back")
			rclone("copy", remote+"/up", back)
			rclone("check", "--download", remote+"/up", back)
			rclone("check", "--download", local, back)
			os.WriteFile(filepath.Join(back, "stale.txt"), []byte("not in the vault"), 0o644)
			rclone("sync", remote+"/up", back)
			if _, err := os.Stat(filepath.Join(back, "stale.txt")); err == nil {
				t.Fatal("sync down left a file the vault does not hold")
			}
			rclone("check", "--download", back, remote+"/up")
		})
	}
}

// makeTree writes a folder of files for rclone to move: empty, small,
// some MiB over several chunks, nested, with names beyond ASCII.
func makeTree(t *testing.T, dir string) {
	t.Helper()
	files := map[string]int{
		"empty":              0,
		"small.txt":          12,
		"big.bin":            11<<20 + 7,
		"a/edited.txt":       5,
		"a/b/gone.txt":       100,
		"a/b/c/deep.bin":     300 << 10,
		"noms/été 2026.txt":  2000,
		"noms/日本語.md":        64,
		"with space/x y.bin": 70000,
	}
	for name, n := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		rand.Read(b)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
