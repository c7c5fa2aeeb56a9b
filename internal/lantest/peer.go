package lantest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// touchSources reads the metadata of every Go file of the module. go test
// caches a test's result keyed by the files the test process opens or
// stats; the binary is built by a child process it cannot see, so without
// this a test of real daemons would pass from the cache after the daemon's
// code changed.
func touchSources() {
	dir, err := os.Getwd()
	if err != nil {
		return
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return
		}
		dir = parent
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != dir {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum" {
			os.Stat(p)
		}
		return nil
	})
}

// PeerBinary builds cmd/peer once per test process and returns its path.
func PeerBinary(t TB) string {
	t.Helper()
	return Binary(t, "github.com/peer-cloud/peer/cmd/peer")
}

// PeerOptions configure a node made by NewPeer.
type PeerOptions struct {
	// Profile is "default" or "pi".
	Profile string
	// MDNS turns on LAN discovery.
	MDNS bool
	// Peers are static peers' multiaddrs.
	Peers []string
	// Listen overrides the libp2p listen addresses (default: the host's
	// LAN address, port 4010, TCP and QUIC).
	Listen []string
	// API overrides the API address (default 127.0.0.1:5010).
	API string
	// Phrase, when set, makes the node a new device of the account with
	// this recovery phrase (peer init --recover).
	Phrase string
	// Link, when set, makes the node a new device of the account of the
	// running device that made this link (peer init --link).
	Link string
	// Config lines ("key = value") that replace the lines of the same key
	// in config.toml (keys that appear once, such as "pubsub").
	Config []string
	// LogLevel is the daemon's --log-level (default "info").
	LogLevel string
}

// Peer is a peer repo on a host, and its daemon when started.
type Peer struct {
	t    TB
	Host *Host
	Bin  string
	Repo string

	logLevel string
	mu       sync.Mutex
	daemon   *exec.Cmd
	exited   chan struct{}
	logs     *lockedWriter
}

// NewPeer initialises a repo for a node on h that listens on h's LAN
// address (TCP and QUIC, port 4010) with its API on the namespace's
// loopback. The daemon is stopped when the test ends.
func NewPeer(t TB, h *Host, o PeerOptions) *Peer {
	t.Helper()
	p := &Peer{t: t, Host: h, Bin: PeerBinary(t), Repo: t.TempDir(), logLevel: o.LogLevel}
	if p.logLevel == "" {
		p.logLevel = "info"
	}
	if o.Profile == "" {
		o.Profile = "default"
	}
	args := []string{"init", "--profile", o.Profile}
	if o.Phrase != "" {
		args = append(args, "--recover")
	}
	if o.Link != "" {
		args = append(args, "--link", o.Link)
	}
	if _, err := p.RunInput(o.Phrase, args...); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(p.Repo, "config.toml")
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	quote := func(xs []string) string {
		q := make([]string, len(xs))
		for i, x := range xs {
			q[i] = fmt.Sprintf("%q", x)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	if o.Listen == nil {
		o.Listen = []string{"/ip4/" + h.IP + "/tcp/4010", "/ip4/" + h.IP + "/udp/4010/quic-v1"}
	}
	cfg = replaceLine(cfg, "listen = [", "listen = "+quote(o.Listen))
	if o.API != "" {
		cfg = replaceLine(cfg, "listen = \"127.0.0.1:5010\"", fmt.Sprintf("listen = %q", o.API))
	}
	cfg = replaceLine(cfg, "mdns = ", fmt.Sprintf("mdns = %t", o.MDNS))
	cfg = replaceLine(cfg, "peers = ", "peers = "+quote(o.Peers))
	for _, line := range o.Config {
		key, _, _ := strings.Cut(line, "=")
		cfg = replaceLine(cfg, strings.TrimSpace(key)+" = ", line)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

func replaceLine(s, prefix, line string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = line
			return strings.Join(lines, "\n")
		}
	}
	panic("lantest: no config line starts with " + prefix)
}

// Start runs the daemon and returns once it says it is ready.
func (p *Peer) Start() {
	p.t.Helper()
	// Failing is left until the lock is let go: a command's Fatal runs
	// the cleanups at once, and they stop this peer.
	if err := p.start(); err != nil {
		p.t.Fatal(err)
	}
}

func (p *Peer) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.daemon != nil {
		return errors.New("lantest: daemon already running")
	}
	cmd := p.Host.Command(context.Background(), p.Bin, "daemon", "--log-level", p.logLevel)
	cmd.Env = append(os.Environ(), "PEER_PATH="+p.Repo)
	p.logs = &lockedWriter{}
	cmd.Stderr = p.logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "API ") && !sent {
				ready <- true
				sent = true
			}
		}
		if !sent {
			ready <- false
		}
	}()
	exited := make(chan struct{})
	p.daemon, p.exited = cmd, exited
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			p.daemon = nil
			return fmt.Errorf("lantest: daemon on %s exited before it was ready: %s", p.Host.NS, p.logs.String())
		}
	case <-time.After(60 * time.Second):
		go func() { cmd.Wait(); close(exited) }()
		return fmt.Errorf("lantest: daemon on %s not ready after 60 s: %s", p.Host.NS, p.logs.String())
	}
	go func() { cmd.Wait(); close(exited) }()
	return nil
}

// Stop ends the daemon with SIGTERM and waits for it; a clean exit is
// required.
func (p *Peer) Stop() { p.signal(syscall.SIGTERM, true) }

// Kill ends the daemon with SIGKILL, as a crash or power loss would.
func (p *Peer) Kill() { p.signal(syscall.SIGKILL, false) }

func (p *Peer) signal(sig syscall.Signal, clean bool) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.daemon == nil {
		return
	}
	// ip netns exec execs the command, so the process is the daemon.
	p.daemon.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.daemon.Process.Kill()
		<-p.exited
		p.t.Errorf("lantest: daemon on %s did not stop within 30 s of %v", p.Host.NS, sig)
	}
	if clean && !p.daemon.ProcessState.Success() {
		p.t.Errorf("lantest: daemon on %s exited with %v: %s", p.Host.NS, p.daemon.ProcessState, p.logs.String())
	}
	p.daemon = nil
}

// PID returns the daemon's process ID (ip netns exec execs it), or 0.
func (p *Peer) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.daemon == nil {
		return 0
	}
	return p.daemon.Process.Pid
}

// Logs returns what the daemon wrote to stderr so far.
func (p *Peer) Logs() string {
	if p.logs == nil {
		return ""
	}
	return p.logs.String()
}

// Cmd returns a peer command for this repo inside the host's namespace.
func (p *Peer) Cmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := p.Host.Command(ctx, p.Bin, args...)
	cmd.Env = append(os.Environ(), "PEER_PATH="+p.Repo)
	return cmd
}

// Run runs a peer command (bounded to 5 minutes) and returns its stdout;
// the error includes stderr.
func (p *Peer) Run(args ...string) (string, error) { return p.RunInput("", args...) }

// RunInput is Run with stdin.
func (p *Peer) RunInput(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := p.Cmd(ctx, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("peer %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// MustRun is Run that fails the test on error.
func (p *Peer) MustRun(args ...string) string {
	p.t.Helper()
	out, err := p.Run(args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// ID returns the node's peer ID.
func (p *Peer) ID() string {
	p.t.Helper()
	return strings.TrimSpace(p.MustRun("id"))
}

// Addr returns the node's TCP multiaddr with /p2p/ID.
func (p *Peer) Addr() string {
	return "/ip4/" + p.Host.IP + "/tcp/4010/p2p/" + p.ID()
}

type lockedWriter struct {
	mu sync.Mutex
	w  bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// API returns the running daemon's API address (a URL) and its token,
// as the daemon wrote them into its repo.
func (p *Peer) API() (addr, token string, err error) {
	a, err := os.ReadFile(filepath.Join(p.Repo, "api.addr"))
	if err != nil {
		return "", "", fmt.Errorf("failed to read the daemon's API address: %w", err)
	}
	t, err := os.ReadFile(filepath.Join(p.Repo, "api.token"))
	if err != nil {
		return "", "", fmt.Errorf("failed to read the daemon's API token: %w", err)
	}
	return strings.TrimSpace(string(a)), strings.TrimSpace(string(t)), nil
}
