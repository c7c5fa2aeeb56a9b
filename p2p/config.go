package p2p

import (
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

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
	// Records bound the DHT records other peers can make the node store.
	// Default: the profile's (see profileLimits).
	Records RecordLimits
	// Log receives the node's structured log. Default: discard.
	Log *slog.Logger
	// Metrics receives go-libp2p's own metrics (swarm, resource manager,
	// identify, event bus, QUIC). Default: none are collected (libp2p's
	// own default is the process-wide prometheus.DefaultRegisterer, which
	// this package never uses). libp2p keeps those metrics in package
	// variables: hosts of one process add up in them.
	Metrics prometheus.Registerer
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
	records           RecordLimits
}

func profileLimits(p blockstore.Profile) limits {
	if p == blockstore.ProfilePi {
		return limits{connLow: 32, connHigh: 64, memory: 64 << 20, fds: 256,
			records: RecordLimits{MaxRecords: 2048, MaxBytes: 4 << 20, PeerRate: 10, PeerBurst: 100}}
	}
	// A household's LAN has a few dozen names; 8192 records of a few
	// hundred bytes leave room for far more, and 16 MiB bounds records
	// padded to IPNS's 10 KiB maximum. A device publishes a record per
	// change, a donor a burst per republication: 10 puts a second with
	// bursts of 100 leave both unhindered.
	return limits{connLow: 100, connHigh: 400, memory: 512 << 20, fds: 2048,
		records: RecordLimits{MaxRecords: 8192, MaxBytes: 16 << 20, PeerRate: 10, PeerBurst: 100}}
}
