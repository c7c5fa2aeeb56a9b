package donor

import (
	"log/slog"
	"time"

	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
)

// Defaults of [Config].
const (
	DefaultCatchUp   = 30 * time.Second
	DefaultRepublish = namesys.RepublishInterval
	// fetchTimeout bounds taking in one record (root, head and history).
	fetchTimeout = 10 * time.Minute
	// maxHistory bounds the snapshots walked back from a head.
	maxHistory = 100_000
)

// Keep is the history policy: which snapshots besides the head a donor
// keeps. The zero value keeps all of them.
type Keep struct {
	// Snapshots keeps at most this many snapshots, the head included,
	// newest first (by the order of a walk back from the head); 0: all.
	Snapshots int
	// For keeps the snapshots the donor took in less than this long ago
	// (a snapshot's own time is sealed, so it is the time the head that
	// brought it was taken in); 0: any age. The head is always kept.
	For time.Duration
}

// Config configures a donor [Service].
type Config struct {
	Node  *p2p.Node
	Store *blockstore.Store
	Names *namesys.System
	// Datastore keeps the donor's state (a namespace of Store's).
	Datastore ds.Datastore
	// Accounts are served from the start (besides those added by
	// [Service.Serve], which are kept in Datastore).
	Accounts []peer.ID
	// Quota bounds the bytes of all served accounts together; 0: no
	// bound but the disk.
	Quota int64
	// PerAccount bounds the bytes of each account; 0: none.
	PerAccount int64
	// Open takes any account that asks (on AskProtocol), within the
	// quota: as many as it holds at PerAccount each ([Service.SetOpen]
	// goes over it).
	Open bool
	Keep Keep
	// CatchUp is how often the DHT is asked for each account's record.
	CatchUp time.Duration
	// Republish is how often each account's newest record is put again.
	Republish time.Duration
	Log       *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.CatchUp <= 0 {
		c.CatchUp = DefaultCatchUp
	}
	if c.Republish <= 0 {
		c.Republish = DefaultRepublish
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}
