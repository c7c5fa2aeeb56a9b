package daemon_test

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDAVBench measures, with PEER_DAV_BENCH=MiB set, rclone copy of a
// file of that size into /dav/ against peer add of it, and reading it
// back through WebDAV (rclone) against peer cat, 3 runs each, each on a
// fresh daemon so that no run finds the chunks stored already:
//
//	PEER_DAV_BENCH=1024 go test ./daemon -run TestDAVBench -v -timeout 30m
func TestDAVBench(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("PEER_DAV_BENCH"))
	if mib <= 0 {
		t.Skip("set PEER_DAV_BENCH=MiB to measure WebDAV against peer add and peer cat")
	}
	bin, err := exec.LookPath("rclone")
	if err != nil {
		t.Skip("rclone is not installed (apt-get install rclone)")
	}
	ctx := t.Context()
	work := t.TempDir()
	src := filepath.Join(work, "src.bin")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, int64(mib)<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	conf := filepath.Join(work, "rclone.conf")
	rclone := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--config", conf, "-q", "--transfers", "1", "--retries", "1"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rclone %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	timed := func(fn func()) time.Duration {
		began := time.Now()
		fn()
		return time.Since(began)
	}
	var add, put, cat, get []time.Duration
	for run := range 3 {
		// peer add, then peer cat, on one daemon.
		func() {
			_, c := start(t)
			add = append(add, timed(func() {
				if _, err := c.VaultAdd(ctx, "/", []string{src}, nil); err != nil {
					t.Fatal(err)
				}
			}))
			out := filepath.Join(work, "cat.bin")
			cat = append(cat, timed(func() {
				resp, err := c.VaultCat(ctx, "/src.bin", "", 0, -1)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				f, err := os.Create(out)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if n, err := io.Copy(f, resp.Body); err != nil || n != int64(mib)<<20 {
					t.Fatalf("peer cat: %d bytes, %v", n, err)
				}
			}))
			os.Remove(out)
		}()
		// rclone copy in and back out, on another.
		func() {
			d, c := start(t)
			pass, err := exec.CommandContext(ctx, bin, "--config", conf, "obscure", c.Token).Output()
			if err != nil {
				t.Fatal(err)
			}
			remote := fmt.Sprintf(":webdav,url='%s/dav/',vendor=other,user=peer,pass='%s':", d.APIURL(), strings.TrimSpace(string(pass)))
			put = append(put, timed(func() { rclone("copyto", src, remote+"src.bin") }))
			out := filepath.Join(work, "get.bin")
			get = append(get, timed(func() { rclone("copyto", remote+"src.bin", out) }))
			if st, err := os.Stat(out); err != nil || st.Size() != int64(mib)<<20 {
				t.Fatalf("rclone read back %v, %v", st, err)
			}
			os.Remove(out)
		}()
		t.Logf("run %d: add %v, rclone copy in %v, cat %v, rclone copy out %v", run+1, add[run], put[run], cat[run], get[run])
	}
	mmm := func(ds []time.Duration) (string, time.Duration) {
		s := slices.Clone(ds)
		slices.Sort(s)
		rate := func(d time.Duration) string { return fmt.Sprintf("%.0f", float64(mib)/d.Seconds()) }
		return fmt.Sprintf("%s-%s-%s MiB/s (%v-%v-%v)", rate(s[2]), rate(s[1]), rate(s[0]), s[0].Round(time.Millisecond), s[1].Round(time.Millisecond), s[2].Round(time.Millisecond)), s[1]
	}
	a, am := mmm(add)
	p, pm := mmm(put)
	c, cm := mmm(cat)
	g, gm := mmm(get)
	fmt.Printf("%d MiB, min-median-max of 3 runs:\n", mib)
	fmt.Printf("  peer add            %s\n", a)
	fmt.Printf("  rclone copy to /dav %s  (%.2f of peer add, by median)\n", p, am.Seconds()/pm.Seconds())
	fmt.Printf("  peer cat            %s\n", c)
	fmt.Printf("  rclone copy back    %s  (%.2f of peer cat, by median)\n", g, cm.Seconds()/gm.Seconds())
}
