package p2p

import (
	"context"
	"time"

	recpb "github.com/libp2p/go-libp2p-record/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"
)

// ForgetBitswapPeer makes Bitswap drop p as boxo does when it marks a peer
// unresponsive, while the connection stays up.
func (n *Node) ForgetBitswapPeer(p peer.ID) { n.bitswap.PeerDisconnected(p) }

// SweepRecordsAt sweeps the DHT records as if the time were now.
func (n *Node) SweepRecordsAt(ctx context.Context, now time.Time) (SweepResult, error) {
	return n.sweepRecordsAt(ctx, now)
}

// LocalRecord returns the value of the DHT record stored here under the
// routing key key (kad-dht's GetValue asks peers even when told Offline).
func (n *Node) LocalRecord(ctx context.Context, key string) ([]byte, error) {
	b, err := n.records.Get(ctx, recordDsKey(key))
	if err != nil {
		return nil, err
	}
	var rec recpb.Record
	if err := proto.Unmarshal(b, &rec); err != nil {
		return nil, err
	}
	return rec.GetValue(), nil
}
