package lantest

import "fmt"

// AddDetached adds a host that has only its loopback interface, like a
// machine whose network is not up yet (a laptop offline, a Pi booting, a
// container). Attach plugs it into the LAN.
func (l *LAN) AddDetached() *Host {
	l.t.Helper()
	i := len(l.Hosts)
	h := &Host{lan: l, NS: fmt.Sprintf("%s-h%d", l.id, i), IP: fmt.Sprintf("10.77.0.%d", i+1)}
	l.must("ip", "netns", "add", h.NS)
	l.Hosts = append(l.Hosts, h)
	l.must("ip", "-n", h.NS, "link", "set", "lo", "up")
	return h
}

// Attach gives a host made by AddDetached its LAN interface: a veth on the
// bridge with the host's address, up.
func (h *Host) Attach() {
	l := h.lan
	l.t.Helper()
	if h.Dev != "" {
		l.t.Fatalf("lantest: %s is already attached", h.NS)
	}
	port := fmt.Sprintf("p%d", len(l.Hosts)+100)
	for i, x := range l.Hosts {
		if x == h {
			port = fmt.Sprintf("p%d", i)
		}
	}
	h.Dev, h.port = "eth0", port
	l.must("ip", "-n", l.sw, "link", "add", port, "type", "veth", "peer", "name", h.Dev, "netns", h.NS)
	l.must("ip", "-n", l.sw, "link", "set", port, "master", "br0", "up")
	l.must("ip", "-n", h.NS, "addr", "add", h.IP+"/24", "dev", h.Dev)
	l.must("ip", "-n", h.NS, "link", "set", h.Dev, "up")
}
