package p2p

import (
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
)

// quicAfterTCP is how long a dial waits for a peer's TCP addresses
// before it tries the others (QUIC) as well.
const quicAfterTCP = 250 * time.Millisecond

// tcpFirst is the node's dial ranker: a peer's TCP addresses first, all
// at once, then its other addresses (QUIC) after quicAfterTCP, in
// libp2p's own order; a peer with no TCP address is dialed as libp2p
// does.
//
// libp2p dials QUIC first. Measured here between two nodes that met by
// mDNS on an emulated 1 Gbit/s LAN, QUIC carried 0.57-0.65 of iperf3's
// rate and TCP 0.77-0.83 (a 1 GiB donor mirror: 0.65 against 0.83): QUIC
// runs its congestion control, packet crypto and one system call per
// datagram in user space, where the kernel does TCP's, and a node not
// run as root cannot raise the UDP receive buffer to the 7 MB quic-go
// asks for (net.core.rmem_max is 208 KiB by default), which costs QUIC
// more. On a LAN, where the node's users are, TCP connects in a
// millisecond, so the QUIC dial never starts.
func tcpFirst(addrs []ma.Multiaddr) []network.AddrDelay {
	var tcp, other []ma.Multiaddr
	for _, a := range addrs {
		if isTCP(a) {
			tcp = append(tcp, a)
		} else {
			other = append(other, a)
		}
	}
	if len(tcp) == 0 {
		return swarm.DefaultDialRanker(addrs)
	}
	out := make([]network.AddrDelay, 0, len(addrs))
	for _, a := range tcp {
		out = append(out, network.AddrDelay{Addr: a})
	}
	for _, d := range swarm.DefaultDialRanker(other) {
		d.Delay += quicAfterTCP
		out = append(out, d)
	}
	return out
}

// isTCP reports whether a is a plain TCP address (not a WebSocket).
func isTCP(a ma.Multiaddr) bool {
	tcp := false
	for _, c := range a {
		switch c.Protocol().Code {
		case ma.P_TCP:
			tcp = true
		case ma.P_WS, ma.P_WSS, ma.P_CIRCUIT, ma.P_TLS:
			return false
		}
	}
	return tcp
}
