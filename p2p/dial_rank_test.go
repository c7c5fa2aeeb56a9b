package p2p

import (
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

// TestTCPFirst: a peer's TCP addresses are dialed at once and its QUIC
// ones only after quicAfterTCP; a peer with QUIC alone is dialed at once.
func TestTCPFirst(t *testing.T) {
	addrs := []ma.Multiaddr{
		ma.StringCast("/ip4/192.168.1.5/udp/4010/quic-v1"),
		ma.StringCast("/ip4/192.168.1.5/tcp/4010"),
		ma.StringCast("/ip6/fd00::5/tcp/4010"),
		ma.StringCast("/ip4/192.168.1.5/tcp/4011/ws"),
	}
	got := tcpFirst(addrs)
	if len(got) != len(addrs) {
		t.Fatalf("%d addresses ranked of %d", len(got), len(addrs))
	}
	for _, d := range got {
		tcp := isTCP(d.Addr)
		if tcp && d.Delay != 0 || !tcp && d.Delay < quicAfterTCP {
			t.Errorf("%s dialed after %s", d.Addr, d.Delay)
		}
	}
	only := tcpFirst(addrs[:1])
	if len(only) != 1 || only[0].Delay != 0 {
		t.Fatalf("a QUIC-only peer: %v", only)
	}
}
