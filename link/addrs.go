package link

import (
	"slices"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// LANAddrs picks, from a host's addresses, those to put in a URI: IP
// addresses with a TCP or QUIC port, LAN (private) ones first, then other
// routable ones, TCP before QUIC; loopback ones only when there is
// nothing else (a device on 127.0.0.1 only, as in tests). At most
// MaxAddrs.
func LANAddrs(addrs []ma.Multiaddr) []ma.Multiaddr {
	type cand struct {
		a     ma.Multiaddr
		class int // 0 private, 1 other, 2 loopback
		quic  bool
	}
	var cs []cand
	for _, a := range addrs {
		if checkAddr(a) != nil || manet.IsIPUnspecified(a) || manet.IsIP6LinkLocal(a) || len(a.Bytes()) > maxField {
			continue
		}
		c := cand{a: a, class: 1, quic: len(a) == 3}
		switch {
		case manet.IsIPLoopback(a):
			c.class = 2
		case manet.IsPrivateAddr(a):
			c.class = 0
		}
		cs = append(cs, c)
	}
	slices.SortStableFunc(cs, func(x, y cand) int {
		if x.class != y.class {
			return x.class - y.class
		}
		if x.quic != y.quic {
			if x.quic {
				return 1
			}
			return -1
		}
		return 0
	})
	var out []ma.Multiaddr
	for _, c := range cs {
		if len(out) == MaxAddrs || (c.class == 2 && len(out) > 0) {
			break
		}
		if !slices.ContainsFunc(out, c.a.Equal) {
			out = append(out, c.a)
		}
	}
	return out
}
