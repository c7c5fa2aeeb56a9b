package p2p

import (
	"context"
	"time"

	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// bitswapWatchInterval is how often the node looks for peers Bitswap has
// lost while they are still connected.
const bitswapWatchInterval = 2 * time.Second

// bitswapProtocols are the protocol IDs a Bitswap peer speaks.
var bitswapProtocols = []protocol.ID{
	bsnet.ProtocolBitswap, bsnet.ProtocolBitswapOneOne, bsnet.ProtocolBitswapOneZero, bsnet.ProtocolBitswapNoVers,
}

// watchBitswap gives back to Bitswap the connected peers it dropped.
//
// boxo's Bitswap marks a peer "unresponsive" after a few failed sends and
// forgets it; only a message from that peer brings it back. When both
// ends have marked each other so (seen after a GC pause on one side), no
// one sends anything again and a download waits forever on a live
// connection. Re-announcing a still-connected peer restarts the exchange:
// our wants reach it, and its reply marks us responsive on its side.
func (n *Node) watchBitswap(ctx context.Context) {
	t := time.NewTicker(bitswapWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.reviveBitswapPeers()
		}
	}
}

// reviveBitswapPeers re-announces connected Bitswap peers that Bitswap's
// server no longer tracks.
func (n *Node) reviveBitswapPeers() {
	st, err := n.bitswap.Stat()
	if err != nil {
		return
	}
	known := make(map[string]bool, len(st.Peers))
	for _, p := range st.Peers {
		known[p] = true
	}
	for _, p := range n.host.Network().Peers() {
		if known[p.String()] || n.host.Network().Connectedness(p) != network.Connected {
			continue
		}
		if ps, err := n.host.Peerstore().SupportsProtocols(p, bitswapProtocols...); err != nil || len(ps) == 0 {
			continue
		}
		n.log.Debug("bitswap had lost a connected peer; announcing it again", "peer", p)
		n.bitswap.PeerConnected(p)
	}
}
