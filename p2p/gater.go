package p2p

import (
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// lanAddr reports whether a is a loopback, private (RFC 1918, ULA) or
// link-local address: the addresses a LAN node talks to.
func lanAddr(a ma.Multiaddr) bool {
	return manet.IsIPLoopback(a) || manet.IsPrivateAddr(a) || manet.IsIP6LinkLocal(a)
}

// lanGater refuses to dial or accept anything but LAN addresses, so a node
// never reaches the internet whatever addresses peers gossip.
type lanGater struct{}

func (lanGater) InterceptPeerDial(peer.ID) bool                   { return true }
func (lanGater) InterceptAddrDial(_ peer.ID, a ma.Multiaddr) bool { return lanAddr(a) }
func (lanGater) InterceptAccept(c network.ConnMultiaddrs) bool    { return lanAddr(c.RemoteMultiaddr()) }
func (lanGater) InterceptSecured(network.Direction, peer.ID, network.ConnMultiaddrs) bool {
	return true
}
func (lanGater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// lanRoutingTableFilter admits a peer to the DHT routing table while we are
// connected to it. The gater already refuses every non-LAN connection, so
// unlike kad-dht's PrivateRoutingTableFilter this also admits loopback and
// several nodes on one machine form a DHT.
func lanRoutingTableFilter(d any, p peer.ID) bool {
	h, ok := d.(interface{ Host() host.Host })
	return ok && len(h.Host().Network().ConnsToPeer(p)) > 0
}
