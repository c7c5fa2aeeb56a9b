// Package hostile is a misbehaving LAN peer for tests: a real libp2p host
// with gossipsub, a DHT client and Bitswap that floods topics, replays old
// records, spams DHT puts, floods wantlists and sends malformed messages.
// Tests point it at real daemons and check that they stay up, bounded and
// in sync. Every flood is bounded by a count and by its context.
package hostile

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/ipfs/boxo/bitswap"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	bstore "github.com/ipfs/boxo/blockstore"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// Peer is a hostile node.
type Peer struct {
	Host    host.Host
	PubSub  *pubsub.PubSub
	DHT     *dht.IpfsDHT
	Bitswap *bitswap.Bitswap
	// Blocks is what its Bitswap serves.
	Blocks bstore.Blockstore

	mu     sync.Mutex
	topics map[string]*pubsub.Topic
	cancel context.CancelFunc
}

// New starts a hostile peer listening on listen (e.g.
// "/ip4/127.0.0.1/tcp/0"). Close stops it.
func New(ctx context.Context, listen ...string) (*Peer, error) {
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, err
	}
	h, err := libp2p.New(libp2p.Identity(sk), libp2p.ListenAddrStrings(listen...), libp2p.DisableRelay())
	if err != nil {
		return nil, fmt.Errorf("failed to start the hostile host: %w", err)
	}
	pctx, cancel := context.WithCancel(context.Background())
	p := &Peer{Host: h, topics: map[string]*pubsub.Topic{}, cancel: cancel}
	fail := func(err error) (*Peer, error) {
		p.Close()
		return nil, err
	}
	// Its own messages go out unvalidated and as fast as it can make them.
	if p.PubSub, err = pubsub.NewGossipSub(pctx, h, pubsub.WithFloodPublish(true), pubsub.WithPeerOutboundQueueSize(4096)); err != nil {
		return fail(fmt.Errorf("failed to start the hostile pubsub: %w", err))
	}
	if p.DHT, err = dht.New(h, dht.Mode(dht.ModeClient), dht.ProtocolExtension(dual.LanExtension),
		dht.QueryFilter(func(any, peer.AddrInfo) bool { return true }),
		dht.RoutingTableFilter(func(any, peer.ID) bool { return true })); err != nil {
		return fail(fmt.Errorf("failed to start the hostile DHT: %w", err))
	}
	p.Blocks = bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	p.Bitswap = bitswap.New(pctx, bsnet.NewFromIpfsHost(h), routing.Routing(p.DHT), p.Blocks)
	return p, nil
}

// Close stops the peer.
func (p *Peer) Close() error {
	var errs []error
	if p.Bitswap != nil {
		errs = append(errs, p.Bitswap.Close())
	}
	if p.DHT != nil {
		errs = append(errs, p.DHT.Close())
	}
	p.cancel()
	errs = append(errs, p.Host.Close())
	return errors.Join(errs...)
}

// Connect dials a target.
func (p *Peer) Connect(ctx context.Context, ai peer.AddrInfo) error {
	return p.Host.Connect(ctx, ai)
}

// topic joins a topic once, subscribing so gossipsub meshes it.
func (p *Peer) topic(name string) (*pubsub.Topic, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.topics[name]; ok {
		return t, nil
	}
	t, err := p.PubSub.Join(name)
	if err != nil {
		return nil, fmt.Errorf("failed to join %s: %w", name, err)
	}
	if _, err := t.Subscribe(); err != nil {
		return nil, fmt.Errorf("failed to subscribe to %s: %w", name, err)
	}
	p.topics[name] = t
	return t, nil
}

// Publish sends one message on a topic.
func (p *Peer) Publish(ctx context.Context, topic string, data []byte) error {
	t, err := p.topic(topic)
	if err != nil {
		return err
	}
	return t.Publish(ctx, data)
}

// Flood publishes count messages made by msg on topic, stopping early when
// ctx ends; it returns how many went out.
func (p *Peer) Flood(ctx context.Context, topic string, count int, msg func(i int) []byte) (int, error) {
	t, err := p.topic(topic)
	if err != nil {
		return 0, err
	}
	for i := 0; i < count; i++ {
		if ctx.Err() != nil {
			return i, nil
		}
		if err := t.Publish(ctx, msg(i)); err != nil {
			return i, fmt.Errorf("failed to publish message %d: %w", i, err)
		}
	}
	return count, nil
}

// TopicPeers lists the peers the hostile node sees on a topic.
func (p *Peer) TopicPeers(topic string) []peer.ID { return p.PubSub.ListPeers(topic) }
