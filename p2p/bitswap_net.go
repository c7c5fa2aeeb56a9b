package p2p

import (
	"context"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsnetwork "github.com/ipfs/boxo/bitswap/network"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// replyNet is Bitswap's network, except that the server's replies go only
// over a connection that is open. Bitswap's server otherwise dials a peer
// that went away to deliver blocks it had queued for it; when the peer was
// restarted, the new process receives blocks the old one asked for, and
// asks for them again (a restarted fetcher received blocks twice). Wants
// die with the connection they came on; a peer that still wants the blocks
// asks again.
type replyNet struct{ bsnetwork.BitSwapNetwork }

func (r replyNet) SendMessage(ctx context.Context, p peer.ID, m bsmsg.BitSwapMessage) error {
	return r.BitSwapNetwork.SendMessage(network.WithNoDial(ctx, "bitswap replies only over open connections"), p, m)
}
