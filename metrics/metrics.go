// Package metrics gives the node's figures to Prometheus. A [Collector]
// reads them when scraped from the status functions the node's parts
// already have (Bitswap's counters, the store's size, the account's,
// folders', donor's and name system's status), through the small
// interfaces below, so nothing here keeps a copy that could drift and no
// part counts on the metrics' behalf. None of those reads holds a lock
// that a change, a scan or a fetch holds for long: see each interface.
//
// Every metric this package makes is named peer_*; [NewRegistry] adds
// Go's runtime and the process's, and go-libp2p registers its own
// (libp2p_*) when given the registry (p2p.Config.Metrics).
package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/ipfs/boxo/bitswap"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/donor"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
	"github.com/peer-cloud/peer/sync/folder"
)

// Bitswap gives Bitswap's counters (a *p2p.Node): they are read under
// Bitswap's counter lock, which it holds only to add to them.
type Bitswap interface {
	BitswapStat() (*bitswap.Stat, error)
}

// Peers lists the connected peers (a host's network.Network).
type Peers interface {
	Peers() []peer.ID
}

// Records gives what the DHT holds for others (a *p2p.Node), from
// counters kept as records come and go.
type Records interface {
	RecordStat() p2p.RecordStat
}

// Store gives the block store's size (a *blockstore.Store). It lists
// every key, no value, in a read transaction that blocks no writer; the
// collector does it at most once every [StoreInterval].
type Store interface {
	Stat(ctx context.Context) (blockstore.Stat, error)
}

// Vault gives the account's counters (an *account.Account): atomic
// counters and the head, never the lock a change holds.
type Vault interface {
	Stats() account.Stats
}

// Folders gives the synced folders' status (a *folder.Service), copied
// under each folder's status lock, which its loop holds only to update it.
type Folders interface {
	Status(dir string) ([]folder.Status, error)
}

// Donor gives what the donor serves (a *donor.Service), copied under each
// mirror's lock, which is held only to update what it holds.
type Donor interface {
	Status() donor.Status
}

// Names gives the name system's counters (a *namesys.System): atomic.
type Names interface {
	Stats() namesys.Stats
}

// Sources are what a Collector reads. A nil source leaves its metrics out
// (a donor with no account has no vault and no folders).
type Sources struct {
	Bitswap Bitswap
	Peers   Peers
	Records Records
	Store   Store
	Vault   Vault
	Folders Folders
	Donor   Donor
	Names   Names
}

// StoreInterval is how long the store's size is reused: listing the keys
// of a store of a million blocks takes about a second, too much for every
// scrape of a small board.
const StoreInterval = 30 * time.Second

// storeTimeout bounds one listing of the store's keys.
const storeTimeout = 20 * time.Second

// NewRegistry returns a registry of its own (not Prometheus's global
// one) with Go's runtime and the process's collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Collector makes the node's peer_* metrics from its Sources at each
// scrape.
type Collector struct {
	src Sources

	storeMu   sync.Mutex // held while the store is listed: one listing at a time
	storeAt   time.Time
	storeStat blockstore.Stat
	storeErr  error
	now       func() time.Time
}

// New returns a collector of src's figures.
func New(src Sources) *Collector {
	return &Collector{src: src, now: time.Now}
}

var _ prometheus.Collector = (*Collector)(nil)

// Describe sends the descriptions of every metric the collector can make.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect reads each source and sends its metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Bitswap != nil {
		c.collectBitswap(ch)
	}
	if c.src.Peers != nil {
		gauge(ch, peersConnected, float64(len(c.src.Peers.Peers())))
	}
	if c.src.Records != nil {
		c.collectRecords(ch)
	}
	if c.src.Store != nil {
		c.collectStore(ch)
	}
	if c.src.Vault != nil {
		c.collectVault(ch)
	}
	if c.src.Folders != nil {
		c.collectFolders(ch)
	}
	if c.src.Donor != nil {
		c.collectDonor(ch)
	}
	if c.src.Names != nil {
		c.collectNames(ch)
	}
}

// store returns the store's size, listing it again when the last listing
// is older than StoreInterval.
func (c *Collector) store() (blockstore.Stat, error) {
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	if now := c.now(); c.storeAt.IsZero() || now.Sub(c.storeAt) >= StoreInterval {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		c.storeStat, c.storeErr = c.src.Store.Stat(ctx)
		cancel()
		c.storeAt = now
	}
	return c.storeStat, c.storeErr
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

// timestamp sends t as Unix seconds, and nothing for the zero time (it
// has not happened yet).
func timestamp(ch chan<- prometheus.Metric, d *prometheus.Desc, t time.Time, labels ...string) {
	if t.IsZero() {
		return
	}
	gauge(ch, d, float64(t.UnixNano())/1e9, labels...)
}
