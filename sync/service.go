package daemon

import (
	"context"
	"fmt"
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

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/vault"
)

// names publishes the account's root after every change and follows the
// records other devices of the account publish.
type names struct {
	d     *Daemon
	ns    *namesys.System
	topic *pubsub.Topic // the account's announced blocks
	cache blockCache

	mu       sync.Mutex
	last     *namesys.Published
	lastErr  error
	lastRoot cid.Cid
	// lastDHTPeers is the DHT routing table's size at the last
	// publication: the LAN peers the record could reach.
	lastDHTPeers int
	devices      map[string][]byte // device peer ID -> certificate, from roots seen

	follow  *follower
	rejects rejecter // peers sending refused announcements
	// ctx is the names' background context; lastAttackCatchUp the time
	// (unix ns) of the last catch-up asked for because of refusals.
	ctx               context.Context
	lastAttackCatchUp atomic.Int64
}

func (d *Daemon) startNames(ctx context.Context) error {
	ps := d.node.PubSub()
	if !d.repo.Config.Names.Pubsub {
		ps = nil
	}
	ns, err := namesys.New(ctx, d.node.Host(), d.node.DHT(), ps, d.store.Namespace("namesys"), d.log.With("part", "namesys"))
	if err != nil {
		return err
	}
	n := &names{d: d, ns: ns, ctx: ctx, devices: map[string][]byte{d.repo.PeerID().String(): d.acct.Cert()}}
	n.follow = newFollower(n)
	n.rejects = rejecter{ps: d.node.PubSub(), log: d.log}
	d.names = n
	d.store.AddRoots(n.follow.gcRoots)
	d.store.AddRoots(func(context.Context) ([]cid.Cid, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.lastRoot.Defined() {
			return []cid.Cid{n.lastRoot}, nil
		}
		return nil, nil
	})
	var updates <-chan namesys.Record // nil without pubsub: never ready
	if d.repo.Config.Names.Pubsub {
		if updates, err = ns.Watch(ctx, d.acct.Keys().PeerID()); err != nil {
			return err
		}
		topic := blocksTopic(d.acct.Keys().ID())
		if err := d.node.PubSub().RegisterTopicValidator(topic, n.validateAnnouncement, pubsub.WithValidatorConcurrency(4)); err != nil {
			return fmt.Errorf("failed to join the account's blocks topic: %w", err)
		}
		if n.topic, err = d.node.PubSub().Join(topic); err != nil {
			return fmt.Errorf("failed to join the account's blocks topic: %w", err)
		}
		bsub, err := n.topic.Subscribe()
		if err != nil {
			return fmt.Errorf("failed to join the account's blocks topic: %w", err)
		}
		d.bg.Add(1)
		go func() {
			defer d.bg.Done()
			defer bsub.Cancel()
			n.receiveBlocks(ctx, bsub)
		}()
		if err := n.publishOnDeviceJoin(ctx); err != nil {
			return err
		}
	}
	sub, err := d.node.Host().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return err
	}
	d.bg.Add(3)
	go func() {
		defer d.bg.Done()
		defer sub.Close()
		n.loop(ctx, sub.Out())
	}()
	go func() {
		defer d.bg.Done()
		n.follow.run(ctx)
	}()
	// Records are handed to the follower as they come, apart from the
	// loop (a publication can take seconds): a full channel would drop
	// them.
	go func() {
		defer d.bg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case r := <-updates:
				n.follow.enqueue(r)
			}
		}
	}()
	return nil
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
func (n *names) loop(ctx context.Context, peers <-chan any) {
	catchUp := time.NewTicker(n.d.repo.Config.Names.CatchUp.Duration)
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
		case <-n.d.acct.ToPublish():
			n.publish(ctx)
		case ev := <-peers:
			if e, ok := ev.(event.EvtPeerConnectednessChanged); ok && e.Connectedness == network.Connected {
				soon.Reset(500 * time.Millisecond)
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
func (n *names) publish(ctx context.Context) {
	a := n.d.acct
	r := vault.Root{Box: a.Keys().BoxPublic()}
	if h := a.Head(); h != nil {
		r.Head = h.CID
	}
	n.mu.Lock()
	r.Devices = sortedCerts(n.devices)
	n.mu.Unlock()
	c, err := a.Vault().WriteRoot(ctx, r)
	if err == nil {
		n.mu.Lock()
		n.lastRoot = c
		n.mu.Unlock()
		if bs := a.TakeAnnounce(); len(bs) > 0 && n.topic != nil {
			if rb, err := n.d.store.Blockstore().Get(ctx, c); err == nil {
				bs = append(bs, rb)
			}
			// Before the record, so it usually arrives first.
			if err := n.topic.Publish(ctx, encodeBlocks(bs)); err != nil {
				n.d.log.Debug("failed to announce blocks", "err", err)
			}
		}
		var p namesys.Published
		p, err = n.ns.Publish(ctx, a.Keys().SigningKey(), path.FromCid(c))
		if err == nil {
			n.mu.Lock()
			n.last = &p
			n.lastDHTPeers = n.d.node.DHT().RoutingTable().Size()
			n.mu.Unlock()
			n.follow.published(p.Seq)
			n.d.log.Debug("published", "root", c, "seq", p.Seq, "pubsub peers", p.PubsubPeers, "dht", p.DHTErr)
		}
	}
	if err != nil {
		n.d.log.Warn("failed to publish the account", "err", err)
	}
	n.mu.Lock()
	n.lastErr = err
	n.mu.Unlock()
}

// schedulePublish asks the loop to publish the current head.
func (n *names) schedulePublish() {
	n.d.acct.SchedulePublish()
}

// catchUp asks the network for the account's newest record; when nobody
// has published yet and there is a head, it publishes.
func (n *names) catchUp(ctx context.Context) (namesys.Record, bool) {
	if len(n.d.node.Host().Network().Peers()) == 0 {
		return namesys.Record{}, false
	}
	r, err := n.ns.Resolve(ctx, n.d.acct.Keys().PeerID(), 5*time.Second)
	if err != nil {
		if n.d.acct.Head() != nil {
			n.schedulePublish()
		}
		return namesys.Record{}, false
	}
	return r, true
}

// rootCID is the account root a record points at.
func rootCID(r namesys.Record) (cid.Cid, error) {
	ip, err := path.NewImmutablePath(r.Value)
	if err != nil {
		return cid.Undef, fmt.Errorf("the record points at %s, not an immutable path", r.Value)
	}
	return ip.RootCid(), nil
}

// receiveBlocks keeps the blocks other devices announce.
func (n *names) receiveBlocks(ctx context.Context, sub *pubsub.Subscription) {
	me := n.d.node.Host().ID()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		if m.ReceivedFrom == me {
			continue
		}
		if a, ok := m.ValidatorData.(announcement); ok {
			n.cache.add(a.blocks)
		}
	}
}

// prefill stores the announced blocks that head reaches, walking down
// from it until blocks already held or not announced; FetchDAG then has
// little or nothing left to ask the network for.
func (n *names) prefill(ctx context.Context, head cid.Cid) {
	bs := n.d.store.Blockstore()
	stack := []cid.Cid{head}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if has, err := bs.Has(ctx, c); err != nil || has {
			continue
		}
		data, ok := n.cache.take(c)
		if !ok {
			continue
		}
		b, err := blocks.NewBlockWithCid(data, c)
		if err != nil || bs.Put(ctx, b) != nil {
			continue
		}
		links, err := blockstore.Links(b)
		if err != nil {
			continue
		}
		stack = append(stack, links...)
	}
}

// isDevice reports whether p is another device of the account, as far as
// the roots seen tell.
func (n *names) isDevice(p peer.ID) bool {
	if p == n.d.repo.PeerID() {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.devices[p.String()]
	return ok
}

// learnDevices keeps the valid certificates of this account's devices.
func (n *names) learnDevices(root *vault.Root) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, b := range root.Devices {
		c, err := vault.ParseDeviceCert(b)
		if err != nil || c.Account != n.d.acct.Keys().PeerID() {
			continue
		}
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
