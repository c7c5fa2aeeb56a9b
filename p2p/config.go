package p2p

import (
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/blockstore"
)

// Config says how to build a Node. The zero value of each optional field
// means its default; Identity and Store are required.
type Config struct {
	// Identity is the node's libp2p key (Ed25519).
	Identity crypto.PrivKey
	// Store holds blocks, pins and records.
	Store *blockstore.Store
	// ListenAddrs are multiaddrs to listen on (required; the repo's
	// config holds the defaults).
	ListenAddrs []string
	// MDNS turns on LAN discovery by multicast DNS.
	MDNS bool
	// StaticPeers are dialled at start and kept connected.
	StaticPeers []peer.AddrInfo
	// FetchWindow is how many blocks a fetch keeps requested at once.
	// Default DefaultFetchWindow.
	FetchWindow int
	// ReprovideInterval is how often pinned roots are announced to the
	// DHT again; 0 turns reproviding off.
	ReprovideInterval time.Duration
	// Log receives the node's structured log. Default: discard.
	Log *slog.Logger
}

// DefaultFetchWindow is the default number of blocks kept in flight by a
// fetch: with 1 MiB blocks, 64 MiB, enough to fill a 10 Gbit/s link with
// 50 ms of request latency, while the per-fetch memory stays bounded.
const DefaultFetchWindow = 64

// limits are the connection and resource limits of a profile.
type limits struct {
	connLow, connHigh int
	memory            int64
	fds               int
}

func profileLimits(p blockstore.Profile) limits {
	if p == blockstore.ProfilePi {
		return limits{connLow: 32, connHigh: 64, memory: 64 << 20, fds: 256}
	}
	return limits{connLow: 100, connHigh: 400, memory: 512 << 20, fds: 2048}
}
