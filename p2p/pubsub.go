package p2p

import (
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
)

// BanDuration is how long pubsub ignores a peer blacklisted for sending
// refused messages (PubSub().BlacklistPeer).
const BanDuration = time.Hour

// pubsubOptions bound what peers can make gossipsub hold: messages are
// at most 1 MiB (the largest a change's announcement takes), at most 64
// are validated at once and 64 wait (more are dropped, not queued), and
// blacklisted peers are forgotten after BanDuration.
func pubsubOptions() ([]pubsub.Option, error) {
	bl, err := pubsub.NewTimeCachedBlacklist(BanDuration)
	if err != nil {
		return nil, err
	}
	return []pubsub.Option{
		pubsub.WithFloodPublish(true),
		pubsub.WithMaxMessageSize(1 << 20),
		pubsub.WithValidateThrottle(64),
		pubsub.WithValidateQueueSize(64),
		pubsub.WithBlacklist(bl),
	}, nil
}
