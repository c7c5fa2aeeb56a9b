package daemon

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/boxo/path"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"

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

	taken   map[string]bool // records taken in (the worker's own)
	bestSeq uint64          // the highest sequence number seen or published

	// The worker's queue.
	qmu         sync.Mutex
	queue       []namesys.Record
	wantCatchUp bool
	wake        chan struct{}
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
	n := &names{d: d, ns: ns, devices: map[string][]byte{d.repo.PeerID().String(): d.acct.cert}, wake: make(chan struct{}, 1)}
	d.names = n
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
		if updates, err = ns.Watch(ctx, d.acct.acct.PeerID()); err != nil {
			return err
		}
		if n.topic, err = d.node.PubSub().Join(blocksTopic(d.acct.acct.ID())); err != nil {
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
	}
	sub, err := d.node.Host().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return err
	}
	d.bg.Add(2)
	go func() {
		defer d.bg.Done()
		defer sub.Close()
		n.loop(ctx, updates, sub.Out())
	}()
	go func() {
		defer d.bg.Done()
		n.worker(ctx)
	}()
	return nil
}

// loop publishes the account's name and feeds the worker that follows it:
//   - a record from another device (pubsub) goes to the worker at once;
//   - a local change or merge is published (a burst makes one
//     publication: the signal holds one pending head);
//   - on a new peer, and every names.catch_up_interval, the worker asks
//     the DHT for the newest record (for changes pubsub missed, or made
//     while this device was off);
//   - every namesys.RepublishInterval it publishes again.
//
// A device that starts publishes nothing until it has caught up or changed
// something, so a stale head never goes out with a fresh sequence number.
func (n *names) loop(ctx context.Context, updates <-chan namesys.Record, peers <-chan any) {
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
		case r := <-updates:
			n.enqueue(&r, false)
		case <-n.d.acct.changed:
			n.publish(ctx)
		case ev := <-peers:
			if e, ok := ev.(event.EvtPeerConnectednessChanged); ok && e.Connectedness == network.Connected {
				soon.Reset(500 * time.Millisecond)
			}
		case <-soon.C:
			n.enqueue(nil, true)
		case <-catchUp.C:
			n.enqueue(nil, true)
		case <-republish.C:
			n.publish(ctx)
		}
	}
}

// publish writes the account root for the current head and publishes it.
func (n *names) publish(ctx context.Context) {
	a := n.d.acct
	r := vault.Root{Box: a.acct.BoxPublic()}
	if h := a.Head(); h != nil {
		r.Head = h.CID
	}
	n.mu.Lock()
	r.Devices = sortedCerts(n.devices)
	n.mu.Unlock()
	c, err := a.v.WriteRoot(ctx, r)
	if err == nil {
		n.mu.Lock()
		n.lastRoot = c
		n.mu.Unlock()
		if bs := a.takeAnnounce(); len(bs) > 0 && n.topic != nil {
			if rb, err := n.d.store.Blockstore().Get(ctx, c); err == nil {
				bs = append(bs, rb)
			}
			// Before the record, so it usually arrives first.
			if err := n.topic.Publish(ctx, encodeBlocks(bs)); err != nil {
				n.d.log.Debug("failed to announce blocks", "err", err)
			}
		}
		var p namesys.Published
		p, err = n.ns.Publish(ctx, a.acct.SigningKey(), path.FromCid(c))
		if err == nil {
			n.mu.Lock()
			n.last = &p
			n.bestSeq = max(n.bestSeq, p.Seq)
			n.lastDHTPeers = n.d.node.DHT().RoutingTable().Size()
			n.mu.Unlock()
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

// enqueue hands a record (or a catch-up) to the worker, which takes
// records in apart from the loop: fetching a head can take long (or wait
// for a device that went away) and must not hold up publishing.
func (n *names) enqueue(r *namesys.Record, catchUp bool) {
	n.qmu.Lock()
	if r != nil {
		n.queue = append(n.queue, *r)
	}
	n.wantCatchUp = n.wantCatchUp || catchUp
	n.qmu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// worker takes in queued records and runs catch-ups. All the records
// queued at a time are taken in together: their heads and this device's
// are merged in one step, so devices that hear of the same heads in a
// different order still write the same merge.
func (n *names) worker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		}
		for ctx.Err() == nil {
			n.qmu.Lock()
			q, cu := n.queue, n.wantCatchUp
			n.queue, n.wantCatchUp = nil, false
			n.qmu.Unlock()
			if len(q) == 0 && !cu {
				break
			}
			if cu {
				if r, ok := n.catchUp(ctx); ok {
					q = append(q, r)
				}
			}
			n.take(ctx, q)
		}
	}
}

// schedulePublish asks the loop to publish the current head.
func (n *names) schedulePublish() {
	select {
	case n.d.acct.changed <- struct{}{}:
	default:
	}
}

// catchUp asks the network for the account's newest record; when nobody
// has published yet and there is a head, it publishes.
func (n *names) catchUp(ctx context.Context) (namesys.Record, bool) {
	if len(n.d.node.Host().Network().Peers()) == 0 {
		return namesys.Record{}, false
	}
	r, err := n.ns.Resolve(ctx, n.d.acct.acct.PeerID(), 5*time.Second)
	if err != nil {
		if n.d.acct.Head() != nil {
			n.schedulePublish()
		}
		return namesys.Record{}, false
	}
	return r, true
}

// take integrates records of the account: fetch their roots and heads,
// then fast-forward or merge. A record's sequence number says nothing
// about whether its head is new to this device (a device back from
// offline publishes a lower one), so every record not taken in before is
// looked at. When this device's head is then not the newest record's (it
// was ahead), it publishes, so the network learns what it lacks; merges
// publish anyway. Stale records get no answer: answering them made each
// device republish every record of the others, a storm that doubled each
// round.
func (n *names) take(ctx context.Context, rs []namesys.Record) {
	var heads []cid.Cid
	var newest *vault.Root
	for _, r := range rs {
		key := string(r.Raw)
		if n.taken[key] {
			continue
		}
		n.mu.Lock()
		isNewest := r.Seq >= n.bestSeq
		n.bestSeq = max(n.bestSeq, r.Seq)
		n.mu.Unlock()
		root, err := n.fetch(ctx, r)
		if err != nil {
			n.d.log.Warn("failed to take in the account's new head", "seq", r.Seq, "err", err)
			continue
		}
		n.remember(key)
		if root.Head.Defined() {
			heads = append(heads, root.Head)
		}
		if isNewest {
			newest = root
		}
	}
	if len(heads) > 0 {
		if err := n.d.acct.integrate(ctx, heads); err != nil {
			n.d.log.Warn("failed to take in the account's new heads", "err", err)
			return
		}
	}
	if h := n.d.acct.Head(); newest != nil && h != nil && !h.CID.Equals(newest.Head) {
		n.schedulePublish()
	}
}

// remember notes a record as taken in, keeping the last few hundred.
func (n *names) remember(key string) {
	if n.taken == nil {
		n.taken = map[string]bool{}
	}
	if len(n.taken) > 512 {
		clear(n.taken)
	}
	n.taken[key] = true
}

// rootCID is the account root a record points at.
func rootCID(r namesys.Record) (cid.Cid, error) {
	ip, err := path.NewImmutablePath(r.Value)
	if err != nil {
		return cid.Undef, fmt.Errorf("the record points at %s, not an immutable path", r.Value)
	}
	return ip.RootCid(), nil
}

// rootOf fetches (if needed) and reads the account root a record names.
func (n *names) rootOf(ctx context.Context, r namesys.Record) (*vault.Root, error) {
	c, err := rootCID(r)
	if err != nil {
		return nil, err
	}
	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n.prefill(fctx, c)
	if _, err := n.d.node.DAG().Get(fctx, c); err != nil {
		return nil, fmt.Errorf("failed to fetch the account root %s: %w", c, err)
	}
	return vault.ReadRoot(fctx, n.d.acct.v.Blocks(), c)
}

// fetch reads the root a record names and makes every block of its head's
// history local (each device holds a full copy).
func (n *names) fetch(ctx context.Context, r namesys.Record) (*vault.Root, error) {
	root, err := n.rootOf(ctx, r)
	if err != nil {
		return nil, err
	}
	n.learnDevices(root)
	if !root.Head.Defined() {
		return root, nil
	}
	if h := n.d.acct.Head(); h != nil && h.CID.Equals(root.Head) {
		return root, nil
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	n.prefill(fctx, root.Head)
	if err := n.d.node.FetchDAG(fctx, root.Head, nil); err != nil {
		return nil, fmt.Errorf("failed to fetch snapshot %s: %w", root.Head, err)
	}
	return root, nil
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
		bs, err := decodeBlocks(m.Data)
		if err != nil {
			n.d.log.Debug("dropped a block announcement", "from", m.ReceivedFrom, "err", err)
			continue
		}
		n.cache.add(bs)
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
		data, ok := n.cache.get(c)
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

// learnDevices keeps the valid certificates of this account's devices.
func (n *names) learnDevices(root *vault.Root) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, b := range root.Devices {
		c, err := vault.ParseDeviceCert(b)
		if err != nil || c.Account != n.d.acct.acct.PeerID() {
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
