package p2p

import "github.com/libp2p/go-libp2p/core/peer"

// ForgetBitswapPeer makes Bitswap drop p as boxo does when it marks a peer
// unresponsive, while the connection stays up.
func (n *Node) ForgetBitswapPeer(p peer.ID) { n.bitswap.PeerDisconnected(p) }
