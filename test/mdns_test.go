package test

import (
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// TestMDNSWaitsForInterface: a daemon with mDNS on, started on a machine
// that has only loopback (no interface can multicast), starts, says once
// that mDNS waits for an interface and answers its API; when a LAN
// interface comes up, it and a peer on the LAN find each other by mDNS.
// (The daemon used to exit: "failed to start mDNS".)
func TestMDNSWaitsForInterface(t *testing.T) {
	lan := lantest.New(t, 1)
	h := lan.AddDetached()
	a := lantest.NewPeer(t, h, lantest.PeerOptions{MDNS: true,
		Listen: []string{"/ip4/0.0.0.0/tcp/4010", "/ip4/0.0.0.0/udp/4010/quic-v1"}})
	a.Start()
	id := a.ID()
	const waits = "mDNS waits for a network interface"
	if n := strings.Count(a.Logs(), waits); n != 1 {
		t.Fatalf("daemon logged %q %d times; want once: %s", waits, n, a.Logs())
	}
	b := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{MDNS: true})
	b.Start()
	h.Attach()
	start := time.Now()
	a.MustRun("peers", "--wait", "1", "--timeout", "30s")
	b.MustRun("peers", "--wait", "1", "--timeout", "30s")
	t.Logf("peers found each other %v after the interface came up", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(b.MustRun("peers"), id) {
		t.Fatal("b does not list a as a peer")
	}
	if n := strings.Count(a.Logs(), waits); n != 1 {
		t.Fatalf("daemon logged %q %d times; want once", waits, n)
	}
}
