// Package lantest builds small LANs out of Linux network namespaces for
// tests: each host is a namespace with one veth interface, joined by a
// bridge that lives in a namespace of its own, so nothing touches the
// machine's interfaces. Addresses are in 10.77.0.0/24, there is no route
// out, and everything is removed when the test ends. Tests that need it
// skip, saying why, when not run as root or without iproute2.
package lantest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
)

// LAN is a set of hosts on one bridge.
type LAN struct {
	t      TB
	id     string
	sw     string
	Hosts  []*Host
	closed bool
}

// Host is one network namespace on the LAN.
type Host struct {
	lan *LAN
	// NS is the namespace's name.
	NS string
	// IP is the host's address on the LAN.
	IP string
	// Dev is the host's LAN interface.
	Dev string
	// port is the other end of Dev, on the bridge.
	port string
}

// TB is the part of testing.TB the helpers use, so commands such as the
// benchmark can use them too.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Skip(args ...any)
	TempDir() string
}

var seq atomic.Int32

// Available reports why namespaces cannot be made here, or "" if they can.
func Available() string {
	if os.Geteuid() != 0 {
		return "network namespace tests need root (CI runs as root)"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "network namespace tests need iproute2's ip command"
	}
	return ""
}

// New makes a LAN of n hosts, or skips the test if it cannot.
func New(t TB, n int) *LAN {
	t.Helper()
	if why := Available(); why != "" {
		t.Skip(why)
	}
	if n < 1 || n > 200 {
		t.Fatalf("lantest: %d hosts; want 1 to 200", n)
	}
	l := &LAN{t: t, id: fmt.Sprintf("pt%d-%d", os.Getpid()%100000, seq.Add(1))}
	l.sw = l.id + "-sw"
	t.Cleanup(l.Close)
	l.must("ip", "netns", "add", l.sw)
	l.must("ip", "-n", l.sw, "link", "add", "br0", "type", "bridge")
	l.must("ip", "-n", l.sw, "link", "set", "br0", "up")
	for i := 0; i < n; i++ {
		port := fmt.Sprintf("p%d", i)
		h := &Host{lan: l, NS: fmt.Sprintf("%s-h%d", l.id, i), IP: fmt.Sprintf("10.77.0.%d", i+1), Dev: "eth0", port: port}
		l.must("ip", "netns", "add", h.NS)
		l.must("ip", "-n", l.sw, "link", "add", port, "type", "veth", "peer", "name", h.Dev, "netns", h.NS)
		l.must("ip", "-n", l.sw, "link", "set", port, "master", "br0", "up")
		l.must("ip", "-n", h.NS, "addr", "add", h.IP+"/24", "dev", h.Dev)
		l.must("ip", "-n", h.NS, "link", "set", h.Dev, "up")
		l.must("ip", "-n", h.NS, "link", "set", "lo", "up")
		l.Hosts = append(l.Hosts, h)
	}
	return l
}

func (l *LAN) must(name string, args ...string) {
	l.t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		l.t.Fatalf("lantest: %s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// Close removes the namespaces (and with them the interfaces). Processes
// still running in them keep running: stop them first.
func (l *LAN) Close() {
	if l.closed {
		return
	}
	l.closed = true
	for _, h := range l.Hosts {
		exec.Command("ip", "netns", "del", h.NS).Run()
	}
	exec.Command("ip", "netns", "del", l.sw).Run()
}

// Command returns a command that runs inside the host's namespace.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Shape limits the host's outgoing traffic with a token bucket (tc tbf),
// e.g. rate "1gbit". Apply it on both ends for a symmetric link.
func (h *Host) Shape(rate string) error {
	out, err := exec.Command("ip", "netns", "exec", h.NS, "tc", "qdisc", "replace", "dev", h.Dev, "root",
		"tbf", "rate", rate, "burst", "1mb", "latency", "20ms").CombinedOutput()
	if err != nil {
		return fmt.Errorf("failed to shape %s: %v: %s", h.NS, err, out)
	}
	return nil
}
