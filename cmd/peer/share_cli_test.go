package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShareCommands: peer share prints a link alone on its last line that
// peer cat opens; the errors a user meets say what to do; a following
// share is listed and ended; account --qr shows the ID as a QR code.
func TestShareCommands(t *testing.T) {
	r := testRepo(t)
	startDaemon(t, r)
	peer := func(args ...string) (int, string, string) {
		t.Helper()
		return runPeer(t, append([]string{"--repo", r.Dir}, args...)...)
	}
	src := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(src, []byte("shared words"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := peer("add", src); code != 0 {
		t.Fatalf("add: %s", stderr)
	}
	if code, _, stderr := peer("mkdir", "/dir"); code != 0 {
		t.Fatalf("mkdir: %s", stderr)
	}
	code, out, stderr := peer("share", "notes.txt")
	if code != 0 {
		t.Fatalf("share: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	link := lines[len(lines)-1]
	if len(lines) != 1 || !strings.HasPrefix(link, "peer://s/") {
		t.Fatalf("share printed %q; want the link alone", out)
	}
	if code, out, stderr := peer("cat", link); code != 0 || out != "shared words" {
		t.Fatalf("cat LINK: exit %d, %q, %s", code, out, stderr)
	}
	if code, out, stderr := peer("ls", link); code != 0 || !strings.Contains(out, "notes.txt") {
		t.Fatalf("ls LINK: exit %d, %q, %s", code, out, stderr)
	}
	// A link to a folder: listed, and saved whole.
	code, out, stderr = peer("share", "/dir")
	dirLink := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(dirLink, "peer://s/") || !strings.Contains(stderr, "as it is now") {
		t.Fatalf("share /dir: exit %d, %q, %s", code, out, stderr)
	}
	if code, out, stderr := peer("ls", dirLink, "-l"); code != 0 || out != "" {
		t.Fatalf("ls of an empty folder's link: exit %d, %q, %s", code, out, stderr)
	}
	saved := filepath.Join(t.TempDir(), "saved")
	if code, _, stderr := peer("get", dirLink, "-o", saved); code != 0 {
		t.Fatalf("get of a folder link: %s", stderr)
	}
	if fi, err := os.Stat(saved); err != nil || !fi.IsDir() {
		t.Fatalf("get of a folder link saved %v, %v", fi, err)
	}
	if code, out, _ := peer("shares"); code != 0 || !strings.Contains(out, "one version") {
		t.Fatalf("shares lists the folder link as %q", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"share", "/dir", "--with", "someone"}, "is a folder"},
		{[]string{"cat", dirLink}, "opens a folder"},
		{[]string{"cat", link, "/x"}, "opens a file"},
		{[]string{"share", "/missing"}, "no such file"},
		{[]string{"share", "/notes.txt", "--expires", "1h"}, "--expires needs --follow"},
		{[]string{"unshare", link}, "cannot be ended"},
		{[]string{"unshare", "/notes.txt"}, "no standing following share"},
		{[]string{"cat", link[:len(link)-3]}, "truncated or mistyped"},
		{[]string{"cat", "peer://s/" + strings.Repeat("x", 10) + "#k.AAAA"}, "neither a version nor an account ID"},
	} {
		code, _, stderr := peer(c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("peer %s: exit %d, stderr %q; want one line with %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}

	// A following share of the file: listed, opened, ended by path.
	code, out, stderr = peer("share", "/notes.txt", "--follow", "--expires", "1h")
	if code != 0 {
		t.Fatalf("share --follow: %s", stderr)
	}
	follow := strings.TrimSpace(out)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out, stderr = peer("cat", follow)
		if code == 0 && out == "shared words" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cat of a following link: exit %d, %q, %s", code, out, stderr)
		}
		time.Sleep(20 * time.Millisecond) // until the node has published the share
	}
	if code, out, _ := peer("shares"); code != 0 || !strings.Contains(out, "/notes.txt") || !strings.Contains(out, "until") {
		t.Fatalf("shares: %q", out)
	}
	if code, out, stderr := peer("unshare", "/notes.txt"); code != 0 || !strings.Contains(out, "ended") {
		t.Fatalf("unshare PATH: exit %d, %q, %s", code, out, stderr)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		code, _, stderr = peer("cat", follow)
		if code != 0 && strings.Contains(stderr, "ended this share") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cat of an ended following link: exit %d, %s", code, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}

	code, out, stderr = peer("account", "--qr")
	if code != 0 || !strings.Contains(out, "█") || !strings.Contains(out, "account k51") {
		t.Fatalf("account --qr: exit %d, %q, %s", code, out, stderr)
	}
}
