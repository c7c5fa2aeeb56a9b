package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/daemon"
	"github.com/peer-cloud/peer/repo"
)

// testRepo makes a repo whose node listens on loopback only, mDNS off.
func testRepo(t *testing.T) *repo.Repo {
	t.Helper()
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	r, err := repo.Init(t.TempDir(), cfg, bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runPeer runs the peer command in-process, as main does.
func runPeer(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	// Bounds a daemon that starts when it should not (it runs until
	// its context ends).
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// startDaemon runs a daemon on r until the test ends.
func startDaemon(t *testing.T, r *repo.Repo) *daemon.Daemon {
	t.Helper()
	d, err := daemon.Start(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestDaemonStartFailureIsOneLine: 'peer daemon' that cannot start exits
// non-zero with one line on stderr that names the cause.
func TestDaemonStartFailureIsOneLine(t *testing.T) {
	for _, tc := range []struct {
		name      string
		breakRepo func(t *testing.T, r *repo.Repo)
		want      string
	}{
		{"API port in use", func(t *testing.T, r *repo.Repo) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			editConfig(t, r, `listen = "127.0.0.1:0"`, `listen = "`+ln.Addr().String()+`"`)
		}, "api.listen"},
		{"second daemon on one repo", func(t *testing.T, r *repo.Repo) { startDaemon(t, r) }, "another daemon"},
		{"bad account.key", func(t *testing.T, r *repo.Repo) {
			if err := os.WriteFile(filepath.Join(r.Dir, repo.AccountFile), []byte("short"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, repo.AccountFile},
		{"empty listen", func(t *testing.T, r *repo.Repo) {
			editConfig(t, r, `listen = ["/ip4/127.0.0.1/tcp/0"]`, `listen = []`)
		}, "network.listen"},
		{"libp2p port in use", func(t *testing.T, r *repo.Repo) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			editConfig(t, r, `listen = ["/ip4/127.0.0.1/tcp/0"]`, fmt.Sprintf(`listen = ["/ip4/127.0.0.1/tcp/%d"]`, ln.Addr().(*net.TCPAddr).Port))
		}, "address already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testRepo(t)
			tc.breakRepo(t, r)
			code, _, stderr := runPeer(t, "--repo", r.Dir, "daemon")
			if code == 0 {
				t.Fatalf("exit code 0; stderr %q", stderr)
			}
			if !strings.HasPrefix(stderr, "peer: ") || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Fatalf("stderr %q; want one line starting with \"peer: \"", stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr %q does not mention %q", stderr, tc.want)
			}
		})
	}
}

func editConfig(t *testing.T, r *repo.Repo, old, new string) {
	t.Helper()
	p := filepath.Join(r.Dir, repo.ConfigFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("config.toml has no %q", old)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestHumanOutputEscapesNames: names with terminal escapes, line breaks
// and bidi overrides come out of 'peer add' and 'peer ls' escaped, one
// line each; --json keeps them exact.
func TestHumanOutputEscapesNames(t *testing.T) {
	r := testRepo(t)
	startDaemon(t, r)
	names := []string{"\x1b[2Jclear", "invoice\u202etxt.exe", "two\nlines", "tab\there", "c1\u009bx", "del\x7f"}
	src := t.TempDir()
	args := []string{"--repo", r.Dir, "add"}
	for _, n := range names {
		p := filepath.Join(src, n)
		if err := os.WriteFile(p, []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	clean := func(what, out string, lines int) {
		t.Helper()
		for _, c := range strings.TrimSuffix(out, "\n") {
			if c < 0x20 && c != '\n' || c == 0x7f || c >= 0x80 && c <= 0x9f || c == '\u202e' {
				t.Errorf("%s printed %U raw:\n%q", what, c, out)
				return
			}
		}
		if n := strings.Count(out, "\n"); n != lines {
			t.Errorf("%s printed %d lines; want %d:\n%q", what, n, lines, out)
		}
	}
	code, out, stderr := runPeer(t, args...)
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, stderr)
	}
	clean("add", out, len(names)+1)
	code, out, stderr = runPeer(t, "--repo", r.Dir, "ls")
	if code != 0 {
		t.Fatalf("ls: exit %d: %s", code, stderr)
	}
	clean("ls", out, len(names))
	for _, n := range names {
		if !strings.Contains(out, escape(n)+"\n") {
			t.Errorf("ls output lacks %q:\n%s", escape(n), out)
		}
	}
	code, out, _ = runPeer(t, "--repo", r.Dir, "ls", "-l")
	if code != 0 {
		t.Fatalf("ls -l: exit %d", code)
	}
	clean("ls -l", out, len(names))
	code, out, _ = runPeer(t, "--repo", r.Dir, "--json", "ls")
	if code != 0 {
		t.Fatalf("ls --json: exit %d", code)
	}
	var es []api.Entry
	if err := json.Unmarshal([]byte(out), &es); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range es {
		got[e.Name] = true
	}
	for _, n := range names {
		if !got[n] {
			t.Errorf("ls --json lacks the exact name %q: %s", n, out)
		}
	}
}
