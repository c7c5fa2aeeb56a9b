// Package sync keeps this device in step with the account: it publishes
// the account root after every change, follows the records the
// account's other devices publish, fetches what is new in their heads
// (announced blocks first, then Bitswap) and takes them in, merging when
// heads diverged.
package sync

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/path"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/announce"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
	"github.com/peer-cloud/peer/vault"
)

// Service publishes the account's root after every change and follows
// the records other devices of the account publish, taking their heads
// in.
type Service struct {
	acct  *account.Account
	node  *p2p.Node
	store *blockstore.Store
	ns    *namesys.System
	cfg   Config
	log   *slog.Logger
	topic *pubsub.Topic   // the account's announced blocks
	cache *announce.Cache // announced blocks not stored yet
	links linkMemo        // links of blocks decoded lately

	// bg runs the service's loops until stop.
	bg   sync.WaitGroup
	stop context.CancelFunc

	mu       sync.Mutex
	last     *namesys.Published
	lastErr  error
	lastRoot cid.Cid
	// lastDHTPeers is the DHT routing table's size at the last
	// publication: the LAN peers the record could reach.
	lastDHTPeers int
	devices      map[string][]byte // device peer ID -> certificate, from roots seen
	roster       roster            // revocations, last-seen times (devices.go)
	keys         keyState          // key epochs (keys.go)

	follow  *follower
	rejects rejecter // peers sending refused announcements
	// ctx is the service's background context; lastAttackCatchUp the
	// time (unix ns) of the last catch-up asked for because of refusals.
	ctx               context.Context
	lastAttackCatchUp atomic.Int64

	pullSlots chan struct{} // pulls being served
	pulled    atomic.Int64  // blocks pulled from other devices
}

// Config is what a Service works with.
type Config struct {
	Account *account.Account
	Node    *p2p.Node
	Store   *blockstore.Store
	Names   *namesys.System
	// Pubsub: records and announced blocks travel over gossipsub too
	// (the names system must have been made with pubsub then).
	Pubsub bool
	// CatchUp is how often the DHT is asked for the newest record.
	CatchUp time.Duration
	// Dir is a folder on the store's disk: a fetch leaves free space
	// there.
	Dir string
	// Shares, when set, gives the share nodes the account root lists.
	Shares Shares
	Log    *slog.Logger
}

// Start starts publishing and following; Close stops it.
func Start(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.CatchUp <= 0 {
		return nil, fmt.Errorf("failed to start following the account: catch-up interval %s must be positive", cfg.CatchUp)
	}
	// The loops outlive Start's ctx: they run until Close.
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	n := &Service{
		acct: cfg.Account, node: cfg.Node, store: cfg.Store, ns: cfg.Names, cfg: cfg, log: cfg.Log,
		stop: stop, ctx: ctx, pullSlots: make(chan struct{}, maxPullServing),
		devices: map[string][]byte{cfg.Node.Host().ID().String(): cfg.Account.Cert()},
		cache:   announce.NewCache(maxBlockCache, maxCacheEntries),
	}
	if err := n.start(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Close stops the service and waits for its loops to end.
func (n *Service) Close() {
	n.node.Host().RemoveStreamHandler(pullProtocol)
	n.node.Host().RemoveStreamHandler(pushProtocol)
	n.stop()
	n.bg.Wait()
}

func (n *Service) start(ctx context.Context) error {
	if err := n.loadDevices(ctx); err != nil {
		return err
	}
	n.loadKeys(ctx)
	if err := n.watchDevices(ctx); err != nil {
		return err
	}
	n.follow = newFollower(n)
	n.node.Host().SetStreamHandler(pullProtocol, n.servePull)
	n.node.Host().SetStreamHandler(pushProtocol, n.servePush)
	n.rejects = rejecter{ps: n.node.PubSub(), log: n.log}
	n.store.AddRoots(n.follow.gcRoots)
	n.store.AddRoots(func(context.Context) ([]cid.Cid, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.lastRoot.Defined() {
			return []cid.Cid{n.lastRoot}, nil
		}
		return nil, nil
	})
	var updates <-chan namesys.Record // nil without pubsub: never ready
	if n.cfg.Pubsub {
		var err error
		if updates, err = n.ns.Watch(ctx, n.acct.Keys().PeerID()); err != nil {
			return err
		}
		topic := announce.Topic(n.acct.Keys().ID())
		if err := n.node.PubSub().RegisterTopicValidator(topic, n.validateAnnouncement, pubsub.WithValidatorConcurrency(4)); err != nil {
			return fmt.Errorf("failed to join the account's blocks topic: %w", err)
		}
		if n.topic, err = n.node.PubSub().Join(topic); err != nil {
			return fmt.Errorf("failed to join the account's blocks topic: %w", err)
		}
		bsub, err := n.topic.Subscribe()
		if err != nil {
			return fmt.Errorf("failed to join the account's blocks topic: %w", err)
		}
		n.bg.Add(1)
		go func() {
			defer n.bg.Done()
			defer bsub.Cancel()
			n.receiveBlocks(ctx, bsub)
		}()
		if err := n.publishOnDeviceJoin(ctx); err != nil {
			return err
		}
	}
	sub, err := n.node.Host().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return err
	}
	n.bg.Add(3)
	go func() {
		defer n.bg.Done()
		defer sub.Close()
		n.loop(ctx, sub.Out())
	}()
	go func() {
		defer n.bg.Done()
		n.follow.run(ctx)
	}()
	// Records are handed to the follower as they come, apart from the
	// loop (a publication can take seconds): a full channel would drop
	// them.
	go func() {
		defer n.bg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case r := <-updates:
				n.follow.enqueue(r)
			}
		}
	}()
	return n.catchUpOnReconnect(ctx)
}

// loop publishes the account's name and asks the follower to catch up:
//   - a local change or merge is published (a burst makes one
//     publication: the signal holds one pending head);
//   - on a new peer, and every names.catch_up_interval, the follower asks
//     the DHT for the newest record (for changes pubsub missed, or made
//     while this device was off);
//   - every namesys.RepublishInterval it publishes again.
//
// A device that starts publishes nothing until it has caught up or changed
// something, so a stale head never goes out with a fresh sequence number.
func (n *Service) loop(ctx context.Context, peers <-chan any) {
	catchUp := time.NewTicker(n.cfg.CatchUp)
	defer catchUp.Stop()
	// A new connection needs a moment (identify, DHT routing table) before
	// the DHT can answer: catch up shortly after it.
	soon := time.NewTimer(time.Hour)
	soon.Stop()
	defer soon.Stop()
	republish := time.NewTicker(namesys.RepublishInterval)
	defer republish.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.acct.ToPublish():
			n.publish(ctx)
		case ev := <-peers:
			if e, ok := ev.(event.EvtPeerConnectednessChanged); ok && e.Connectedness == network.Connected {
				soon.Reset(500 * time.Millisecond)
				if n.isRevoked(e.Peer) {
					n.tellRemoved(e.Peer)
				}
			}
		case <-soon.C:
			n.follow.catchUp(ctx)
		case <-catchUp.C:
			n.follow.catchUp(ctx)
		case <-republish.C:
			n.publish(ctx)
		}
	}
}

// publish writes the account root for the current head and publishes it.
func (n *Service) publish(ctx context.Context) {
	if err := n.removedErr(); err != nil {
		n.mu.Lock()
		n.lastErr = err
		n.mu.Unlock()
		return
	}
	a := n.acct
	r := vault.Root{Box: a.Keys().BoxPublic()}
	if h := a.Head(); h != nil {
		r.Head = h.CID
	}
	n.mu.Lock()
	r.Devices = sortedCerts(n.devices)
	r.Revoked = sortedCerts(n.roster.revoked)
	r.Keys = n.keys.rec
	n.mu.Unlock()
	var c cid.Cid
	var err error
	if r.Shares, err = n.rootShares(ctx); err == nil && n.cfg.Shares != nil {
		r.Public, err = n.cfg.Shares.PublicIndex(ctx, a.Vault())
	}
	if err == nil {
		c, err = a.Vault().WriteRoot(ctx, r)
	}
	if err == nil {
		n.mu.Lock()
		n.lastRoot = c
		n.mu.Unlock()
		if bs := a.TakeAnnounce(); len(bs) > 0 && n.topic != nil {
			if rb, err := n.store.Blockstore().Get(ctx, c); err == nil {
				bs = append(bs, rb)
			}
			// Before the record, so it usually arrives first.
			if err := n.topic.Publish(ctx, announce.Encode(bs)); err != nil {
				n.log.Debug("failed to announce blocks", "err", err)
			}
		}
		var p namesys.Published
		p, err = n.ns.Publish(ctx, a.Keys().SigningKey(), path.FromCid(c))
		if err == nil {
			n.mu.Lock()
			n.last = &p
			n.lastDHTPeers = n.node.DHT().RoutingTable().Size()
			n.mu.Unlock()
			n.follow.published(p.Seq)
			n.log.Debug("published", "root", c, "seq", p.Seq, "pubsub peers", p.PubsubPeers)
			n.pushToMissing()
		}
	}
	if err != nil {
		n.log.Warn("failed to publish the account", "err", err)
	}
	n.mu.Lock()
	n.lastErr = err
	n.mu.Unlock()
}

// pushToMissing pushes the newest record straight to each device of the
// account that connected in the last offTopicWindow and is not on the
// record topic (see push.go): a publication or a resend on pubsub did not
// reach it.
func (n *Service) pushToMissing() { n.pushRecords(false) }

// pushRecords pushes the newest record straight to devices of the
// account: to every connected one (all), or to those that connected in
// the last offTopicWindow and are off the record topic.
func (n *Service) pushRecords(all bool) {
	if !n.cfg.Pubsub || n.ns == nil {
		return
	}
	on := map[peer.ID]bool{}
	for _, p := range n.ns.TopicPeers(n.acct.Keys().PeerID()) {
		on[p] = true
	}
	for _, p := range n.node.Host().Network().Peers() {
		if (on[p] && !all) || !n.isDevice(p) {
			continue
		}
		for _, c := range n.node.Host().Network().ConnsToPeer(p) {
			if all || time.Since(c.Stat().Opened) < offTopicWindow {
				n.bg.Go(func() {
					if err := n.pushRecord(n.ctx, p); err != nil {
						n.log.Debug("failed to push the record to a device off the topic", "peer", p, "err", err)
					} else {
						n.log.Debug("pushed the record to a device off the topic", "peer", p)
					}
				})
				break
			}
		}
	}
}

// offTopicWindow: a device that connected this recently and is not on
// the record topic gets records pushed (a device that never subscribes,
// with pubsub off, is left to its catch-ups).
const offTopicWindow = 10 * time.Second

// schedulePublish asks the loop to publish the current head.
func (n *Service) schedulePublish() {
	n.acct.SchedulePublish()
}

// catchUp asks the network for the account's newest record; when nobody
// has published yet, it publishes: its head, or a root with none (an
// empty vault still has a box key and devices others must find to share
// with it; no head cannot be a stale one).
// catchUpResolve bounds one catch-up's search for the newest record.
const catchUpResolve = 5 * time.Second

func (n *Service) catchUp(ctx context.Context) (namesys.Record, bool) {
	if len(n.node.Host().Network().Peers()) == 0 {
		return namesys.Record{}, false
	}
	r, err := n.ns.Resolve(ctx, n.acct.Keys().PeerID(), catchUpResolve)
	if err != nil {
		n.schedulePublish()
		return namesys.Record{}, false
	}
	return r, true
}

// RootCID is the account root a record points at.
func RootCID(r namesys.Record) (cid.Cid, error) {
	ip, err := path.NewImmutablePath(r.Value)
	if err != nil {
		return cid.Undef, fmt.Errorf("the record points at %s, not an immutable path", r.Value)
	}
	return ip.RootCid(), nil
}

// receiveBlocks keeps the blocks other devices announce.
func (n *Service) receiveBlocks(ctx context.Context, sub *pubsub.Subscription) {
	me := n.node.Host().ID()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		if m.ReceivedFrom == me {
			continue
		}
		if a, ok := m.ValidatorData.(announcement); ok {
			n.cache.Add(a.blocks)
		}
	}
}

// A change's new blocks go out on the account's blocks topic just before
// its IPNS record, when they are small, so the account's other devices
// take the change in without a Bitswap round trip per level of the DAG
// (each costs at least 20 ms: boxo's per-peer message queue waits that
// long between messages). Blocks are content-addressed, so a receiver
// checks each against its CID; it keeps them in a bounded cache and stores
// only those the announced head reaches.

// Bounds of the announced blocks a device keeps.
const (
	maxBlockCache   = 16 << 20
	maxCacheEntries = 4096
)

// prefill stores the announced blocks that head reaches, walking down
// from it until blocks already held or not announced; FetchDAG then has
// little or nothing left to ask the network for.
func (n *Service) prefill(ctx context.Context, head cid.Cid) {
	bs := n.store.Blockstore()
	stack := []cid.Cid{head}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		// The cache first: a folder's node links to every entry, most of
		// them local, and asking the store of each cost what the folder
		// holds.
		data, ok := n.cache.Take(c)
		if !ok {
			continue
		}
		if has, err := bs.Has(ctx, c); err != nil || has {
			continue
		}
		b, err := blocks.NewBlockWithCid(data, c)
		if err != nil || bs.Put(ctx, b) != nil {
			continue
		}
		links, err := n.links.links(c, data)
		if err != nil {
			continue
		}
		stack = append(stack, links...)
	}
}

// isDevice reports whether p is another device of the account, as far as
// the roots seen tell.
func (n *Service) isDevice(p peer.ID) bool {
	if p == n.node.Host().ID() {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.devices[p.String()]
	return ok
}

// learnDevices keeps the valid certificates of this account's devices.
func (n *Service) learnDevices(root *vault.Root) {
	n.learnRevocations(root)
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, b := range root.Devices {
		c, err := vault.ParseDeviceCert(b)
		if err != nil || c.Account != n.acct.Keys().PeerID() || n.revokedLocked(c.Device.String()) {
			continue
		}
		n.newCertLocked(c.Device.String(), b)
		n.devices[c.Device.String()] = b
	}
}

// sortedCerts returns the certificates in device order, so equal sets
// make equal roots.
func sortedCerts(m map[string][]byte) [][]byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// Status is what the service knows of the account's devices and of its
// last publication.
type Status struct {
	// Devices are the peer IDs of the account's devices, from the roots
	// seen, this one included, sorted.
	Devices []string
	// Last is the last publication of this run, nil before the first.
	Last *namesys.Published
	// LastRoot is the account root last written for publication.
	LastRoot cid.Cid
	// LastDHTPeers is the DHT routing table's size at the last
	// publication: the LAN peers the record could reach.
	LastDHTPeers int
	// LastErr is the last publication's error.
	LastErr error
}

// Status returns the service's status.
func (n *Service) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := Status{Last: n.last, LastRoot: n.lastRoot, LastDHTPeers: n.lastDHTPeers, LastErr: n.lastErr}
	for id := range n.devices {
		out.Devices = append(out.Devices, id)
	}
	slices.Sort(out.Devices)
	return out
}

// Root fetches and opens the account root c, any account's.
func (n *Service) Root(ctx context.Context, c cid.Cid) (*vault.Root, error) {
	return n.rootOf(ctx, c, 0)
}
