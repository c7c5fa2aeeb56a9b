package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ipfs/boxo/bitswap"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/peering"
	"github.com/ipfs/boxo/provider"
	cid "github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/peer-cloud/peer/blockstore"
)

// DHTProtocol is the protocol of the LAN DHT, the same as stock IPFS
// nodes' LAN DHT.
const DHTProtocol = "/ipfs/lan/kad/1.0.0"

// Node is a running libp2p node with its DHT, pubsub and Bitswap.
type Node struct {
	host     host.Host
	dht      *dht.IpfsDHT
	pubsub   *pubsub.PubSub
	bitswap  *bitswap.Bitswap
	bserv    blockservice.BlockService
	dag      ipld.DAGService
	provider provider.System
	mdns     *mdnsRunner
	peering  *peering.PeeringService
	store    *blockstore.Store
	records  *recordStore
	guard    *putGuard
	reconn   *reconnects
	lan      lanPeers
	window   int
	log      *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New starts a node. The caller must Close it; Close does not close the
// store.
func New(ctx context.Context, cfg Config) (_ *Node, err error) {
	if cfg.Identity == nil || cfg.Store == nil || len(cfg.ListenAddrs) == 0 {
		return nil, errors.New("p2p: Config.Identity, Store and ListenAddrs are required")
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	window := cfg.FetchWindow
	if window <= 0 {
		window = DefaultFetchWindow
	}
	nctx, cancel := context.WithCancel(context.Background())
	n := &Node{store: cfg.Store, window: window, log: log, ctx: nctx, cancel: cancel,
		lan: lanPeers{instance: map[peer.ID]string{}, busy: map[peer.ID]bool{}}}
	// The results are not named n: a failure returns nil, and this must
	// close what was started.
	defer func() {
		if err != nil {
			n.Close()
		}
	}()

	if n.host, err = newHost(cfg); err != nil {
		return nil, err
	}
	validator := record.NamespacedValidator{
		"pk":   record.PublicKeyValidator{},
		"ipns": ipns.Validator{KeyBook: n.host.Peerstore()},
	}
	if n.records, err = newRecordStore(ctx, cfg.Store.Namespace("dht"), recordMaxAge); err != nil {
		return nil, err
	}
	n.guard = newPutGuard(n.records, cfg.Records.withDefaults(profileLimits(cfg.Store.Profile()).records), log)
	n.dht, err = dht.New(n.host,
		dht.Mode(dht.ModeServer),
		dht.ProtocolExtension(dual.LanExtension),
		dht.Datastore(n.records),
		dht.MaxRecordAge(recordMaxAge),
		dht.OnRequestHook(n.guard.onRequest),
		dht.Validator(validator),
		dht.QueryFilter(dht.PrivateQueryFilter),
		dht.RoutingTableFilter(lanRoutingTableFilter),
		dht.BootstrapPeers(cfg.StaticPeers...),
	)
	if err != nil {
		return nil, fmt.Errorf("failed to start DHT: %w", err)
	}
	psOpts, err := pubsubOptions()
	if err != nil {
		return nil, fmt.Errorf("failed to start pubsub: %w", err)
	}
	if n.pubsub, err = pubsub.NewGossipSub(nctx, n.host, psOpts...); err != nil {
		return nil, fmt.Errorf("failed to start pubsub: %w", err)
	}
	n.bitswap = bitswap.New(nctx, replyNet{bsnet.NewFromIpfsHost(n.host)}, n.dht, cfg.Store.Blockstore(), bitswapOptions(cfg.Store.Profile())...)
	n.bserv = blockservice.New(cfg.Store.Blockstore(), n.bitswap)
	n.dag = merkledag.NewDAGService(n.bserv)
	if n.reconn, err = n.watchReconnects(); err != nil {
		return nil, err
	}
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		n.watchBitswap(nctx)
	}()
	go func() {
		defer n.wg.Done()
		n.sweepRecordsLoop(nctx)
	}()

	if cfg.ReprovideInterval > 0 {
		n.provider, err = provider.New(cfg.Store.Datastore(),
			provider.Online(n.dht),
			provider.KeyProvider(n.pinnedRoots),
			provider.ReproviderInterval(cfg.ReprovideInterval),
			provider.ProvideWorkerCount(8),
		)
	} else {
		n.provider = provider.NewNoopProvider()
	}
	if err != nil {
		return nil, fmt.Errorf("failed to start reprovider: %w", err)
	}

	if len(cfg.StaticPeers) > 0 {
		n.peering = peering.NewPeeringService(n.host)
		for _, p := range cfg.StaticPeers {
			n.peering.AddPeer(p)
		}
		if err := n.peering.Start(); err != nil {
			return nil, fmt.Errorf("failed to start peering: %w", err)
		}
	}
	if cfg.MDNS {
		// Without a multicast interface yet, discovery starts when one
		// comes up (see mdnsRunner).
		n.mdns = n.startMDNS()
	}
	log.Info("node started", "id", n.host.ID(), "addrs", n.host.Addrs())
	return n, nil
}

func newHost(cfg Config) (host.Host, error) {
	lim := profileLimits(cfg.Store.Profile())
	cm, err := connmgr.NewConnManager(lim.connLow, lim.connHigh, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("failed to create connection manager: %w", err)
	}
	scaling := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&scaling)
	var rmOpts []rcmgr.Option
	metrics := []libp2p.Option{libp2p.DisableMetrics()}
	if cfg.Metrics != nil {
		metrics = []libp2p.Option{libp2p.PrometheusRegisterer(cfg.Metrics)}
	} else {
		rmOpts = append(rmOpts, rcmgr.WithMetricsDisabled())
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(scaling.Scale(lim.memory, lim.fds)), rmOpts...)
	if err != nil {
		return nil, fmt.Errorf("failed to create resource manager: %w", err)
	}
	// TLS uses AES-GCM, fastest where the CPU has AES instructions; a
	// Raspberry Pi has none, so the pi profile offers Noise
	// (ChaCha20-Poly1305) first. Both are always accepted.
	security := []libp2p.Option{
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Security(noise.ID, noise.New),
	}
	if cfg.Store.Profile() == blockstore.ProfilePi {
		security[0], security[1] = security[1], security[0]
	}
	opts := []libp2p.Option{
		libp2p.Identity(cfg.Identity),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionGater(lanGater{}),
		libp2p.DisableRelay(),
		libp2p.ForceReachabilityPrivate(),
	}
	opts = append(opts, security...)
	opts = append(opts, metrics...)
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("failed to start libp2p host on %v: %w", cfg.ListenAddrs, err)
	}
	return h, nil
}

func bitswapOptions(p blockstore.Profile) []bitswap.Option {
	opts := []bitswap.Option{
		// Peers on a LAN answer want-haves in a millisecond; do not wait a
		// second before asking the DHT for providers.
		bitswap.ProviderSearchDelay(100 * time.Millisecond),
		// A session whose wants went unanswered (a peer restarted and
		// lost them) searches again after this; the default minute shows
		// as a stalled download.
		bitswap.RebroadcastDelay(3 * time.Second),
		// Let a peer have many blocks in flight: the default 1 MiB allows
		// one 1 MiB block per round trip and caps a transfer at a few
		// tens of MB/s.
		bitswap.MaxOutstandingBytesPerPeer(32 << 20),
		bitswap.WithTargetMessageSize(1 << 20),
		// Answer a want-have of a small block (a root, share, folder or
		// file node) with the block: a reader of a link or of a new root
		// then needs a round trip less for each (and Bitswap sends a peer
		// at most one message per 20 ms). Several holders may each send
		// it; small blocks only, so that costs little.
		bitswap.WithWantHaveReplaceSize(16 << 10),
		bitswap.EngineBlockstoreWorkerCount(64),
		bitswap.EngineTaskWorkerCount(16),
		bitswap.TaskWorkerCount(16),
		bitswap.WithoutDuplicatedBlockStats(),
	}
	if p == blockstore.ProfilePi {
		opts = append(opts,
			bitswap.MaxOutstandingBytesPerPeer(8<<20),
			bitswap.EngineBlockstoreWorkerCount(16),
			bitswap.EngineTaskWorkerCount(4),
			bitswap.TaskWorkerCount(4),
		)
	}
	return opts
}

// pinnedRoots lists the roots of recursive pins for the reprovider.
func (n *Node) pinnedRoots(ctx context.Context) (<-chan cid.Cid, error) {
	out := make(chan cid.Cid)
	go func() {
		defer close(out)
		for p := range n.store.Pinner().RecursiveKeys(ctx, false) {
			if p.Err != nil {
				n.log.Warn("failed to list pins for reproviding", "err", p.Err)
				return
			}
			select {
			case out <- p.Pin.Key:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Host returns the libp2p host.
func (n *Node) Host() host.Host { return n.host }

// DHT returns the LAN DHT.
func (n *Node) DHT() *dht.IpfsDHT { return n.dht }

// PubSub returns the gossipsub router.
func (n *Node) PubSub() *pubsub.PubSub { return n.pubsub }

// DAG returns the online DAG service (fetches missing blocks by Bitswap).
func (n *Node) DAG() ipld.DAGService { return n.dag }

// BlockService returns the online block service.
func (n *Node) BlockService() blockservice.BlockService { return n.bserv }

// Store returns the node's store.
func (n *Node) Store() *blockstore.Store { return n.store }

// Provide announces c on the DHT in the background.
func (n *Node) Provide(ctx context.Context, c cid.Cid) error {
	if err := n.provider.Provide(ctx, c, true); err != nil {
		return fmt.Errorf("failed to queue provide of %s: %w", c, err)
	}
	return nil
}

// Connect dials p and keeps the connection protected from trimming.
func (n *Node) Connect(ctx context.Context, p peer.AddrInfo) error {
	if err := n.host.Connect(ctx, p); err != nil {
		return fmt.Errorf("failed to connect to %s: %w", p.ID, err)
	}
	n.host.ConnManager().Protect(p.ID, "lan")
	return nil
}

// AddrInfo returns the node's ID and listen addresses.
func (n *Node) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: n.host.ID(), Addrs: n.host.Addrs()}
}

// Close stops the node's services and its host.
func (n *Node) Close() error {
	var errs []error
	if n.mdns != nil {
		errs = append(errs, n.mdns.Close())
	}
	if n.peering != nil {
		n.peering.Stop()
	}
	if n.provider != nil {
		errs = append(errs, n.provider.Close())
	}
	if n.bitswap != nil {
		errs = append(errs, n.bitswap.Close())
	}
	if n.dht != nil {
		errs = append(errs, n.dht.Close())
	}
	if n.reconn != nil {
		n.reconn.stop()
	}
	n.cancel()
	n.wg.Wait()
	if n.host != nil {
		errs = append(errs, n.host.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("failed to close node: %w", err)
	}
	return nil
}

// BitswapStat returns Bitswap's counters.
func (n *Node) BitswapStat() (*bitswap.Stat, error) {
	st, err := n.bitswap.Stat()
	if err != nil {
		return nil, fmt.Errorf("failed to read Bitswap stats: %w", err)
	}
	return st, nil
}

// WaitPeers returns once at least count peers are connected, or with the
// context's error.
func (n *Node) WaitPeers(ctx context.Context, count int) error {
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return fmt.Errorf("failed to watch connections: %w", err)
	}
	defer sub.Close()
	for len(n.host.Network().Peers()) < count {
		select {
		case <-sub.Out():
		case <-ctx.Done():
			return fmt.Errorf("%d of %d peers connected: %w", len(n.host.Network().Peers()), count, ctx.Err())
		}
	}
	return nil
}
