// Package namesys publishes and resolves accounts' IPNS names on the LAN:
// standard signed IPNS V2 records (boxo/ipns), put to the LAN DHT and sent
// on the standard pubsub record topic at the same moment, so online peers
// hear of a change in milliseconds and the DHT serves the rest. Sequence
// numbers are kept in the datastore and only grow across restarts.
package namesys

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	ds "github.com/ipfs/go-datastore"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	psrouter "github.com/libp2p/go-libp2p-pubsub-router"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// Lifetimes of the records this node makes.
const (
	// Validity is how long a record stays valid after it is made: 30
	// days, so that donors, who put an absent owner's newest record
	// again but cannot sign one, keep the name resolvable through a long
	// absence. Devices sign a new record (the next sequence number) every
	// RepublishInterval, so freshness comes from the sequence, not the
	// EOL.
	Validity = 30 * 24 * time.Hour
	// TTL tells resolvers how long they may cache a record.
	TTL = time.Minute
	// RepublishInterval is how often the names this node publishes or
	// follows are put again.
	RepublishInterval = 4 * time.Hour
)

// Record is a validated IPNS record of a name.
type Record struct {
	Name  peer.ID
	Value path.Path
	Seq   uint64
	EOL   time.Time
	Raw   []byte
}

// Published says how a publication went.
type Published struct {
	Record
	At          time.Time
	PubsubPeers int // peers on the name's topic when it was sent
}

// System publishes and resolves names over a DHT and pubsub.
type System struct {
	host   host.Host
	dht    routing.ValueStore
	ps     *psrouter.PubsubValueStore
	pubsub *pubsub.PubSub
	ds     ds.Datastore
	log    *slog.Logger

	mu       sync.Mutex
	watchers map[peer.ID][]chan Record
	best     map[peer.ID]Record // the best valid record seen of each watched name
	puts     map[peer.ID]*dhtPut

	stats counters // Stats
}

// dhtPut is the put of a name's newest record to the DHT, which runs in
// the background: a put to a peer whose link died takes its whole
// timeout, and a publication must not wait for it (another device's
// change would wait behind it).
type dhtPut struct {
	seq    uint64
	cancel context.CancelFunc
	done   bool
	err    error
}

// New starts a name system on the node's host, DHT and pubsub, keeping
// sequence numbers and the latest records in store. With ps nil, records
// go to and come from the DHT only.
func New(ctx context.Context, h host.Host, dht routing.ValueStore, ps *pubsub.PubSub, store ds.Datastore, log *slog.Logger) (*System, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &System{host: h, dht: dht, pubsub: ps, ds: store, log: log, watchers: map[peer.ID][]chan Record{}, best: map[peer.ID]Record{}, puts: map[peer.ID]*dhtPut{}}
	v := record.NamespacedValidator{
		"pk":   record.PublicKeyValidator{},
		"ipns": notifyingValidator{ipns.Validator{KeyBook: h.Peerstore()}, s},
	}
	if ps == nil {
		return s, nil
	}
	var err error
	s.ps, err = psrouter.NewPubsubValueStore(ctx, h, ps, v, psrouter.WithRebroadcastInterval(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("failed to start IPNS over pubsub: %w", err)
	}
	return s, nil
}

// notifyingValidator validates IPNS records and tells watchers of every
// valid one that arrives on pubsub.
type notifyingValidator struct {
	ipns.Validator
	s *System
}

func (v notifyingValidator) Validate(key string, value []byte) error {
	if err := v.Validator.Validate(key, value); err != nil {
		return err
	}
	if r, err := parse(key, value); err == nil {
		v.s.notify(r)
	}
	return nil
}

// parse reads a record already validated for key.
func parse(key string, value []byte) (Record, error) {
	name, err := ipns.NameFromRoutingKey([]byte(key))
	if err != nil {
		return Record{}, err
	}
	rec, err := ipns.UnmarshalRecord(value)
	if err != nil {
		return Record{}, err
	}
	val, err := rec.Value()
	if err != nil {
		return Record{}, err
	}
	seq, err := rec.Sequence()
	if err != nil {
		return Record{}, err
	}
	eol, err := rec.Validity()
	if err != nil {
		return Record{}, err
	}
	return Record{Name: name.Peer(), Value: val, Seq: seq, EOL: eol, Raw: value}, nil
}

func (s *System) notify(r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Validation runs before pubsub stores a record: keep the best one
	// seen of each watched name, so Local has it at once.
	if _, watched := s.watchers[r.Name]; watched {
		if b, ok := s.best[r.Name]; !ok || better(r, b) {
			s.best[r.Name] = r
		}
	}
	for _, ch := range s.watchers[r.Name] {
		select {
		case ch <- r:
		default:
			// The watcher is behind: it will see a later record, or
			// resolve.
		}
	}
}

// Watch subscribes to the name's topic and returns the valid records that
// arrive on it (newer or not: compare Seq), until ctx ends.
func (s *System) Watch(ctx context.Context, name peer.ID) (<-chan Record, error) {
	if s.ps == nil {
		return nil, errors.New("no pubsub: records come from the DHT only")
	}
	key := string(ipns.NameFromPeer(name).RoutingKey())
	if err := s.ps.Subscribe(key); err != nil {
		return nil, fmt.Errorf("failed to subscribe to %s: %w", name, err)
	}
	ch := make(chan Record, 16)
	s.mu.Lock()
	s.watchers[name] = append(s.watchers[name], ch)
	s.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		ws := s.watchers[name]
		for i, w := range ws {
			if w == ch {
				s.watchers[name] = append(ws[:i], ws[i+1:]...)
				break
			}
		}
	}()
	return ch, nil
}

// seqKey is where the last sequence number used for a name is kept.
func seqKey(name peer.ID) ds.Key { return ds.NewKey("/seq/" + name.String()) }

// nextSeq returns a sequence number above every one this node has used or
// seen for the name, and stores it (synced) before it is used. After
// 2^64-1 it fails: the next number would wrap to 0, a record every peer
// drops as older.
func (s *System) nextSeq(ctx context.Context, name peer.ID) (uint64, error) {
	var last uint64
	b, err := s.ds.Get(ctx, seqKey(name))
	switch {
	case err == nil && len(b) == 8:
		last = binary.BigEndian.Uint64(b)
	case err != nil && !errors.Is(err, ds.ErrNotFound):
		return 0, fmt.Errorf("failed to read the sequence number: %w", err)
	}
	if r, err := s.Local(ctx, name); err == nil && r.Seq > last {
		last = r.Seq
	}
	if last == math.MaxUint64 {
		return 0, errors.New("the name's sequence number is exhausted (2^64-1, a record only the account's key can sign: it may have leaked): no later record can replace it; make a new account and move the files to it")
	}
	next := last + 1
	var nb [8]byte
	binary.BigEndian.PutUint64(nb[:], next)
	if err := s.ds.Put(ctx, seqKey(name), nb[:]); err != nil {
		return 0, fmt.Errorf("failed to save the sequence number: %w", err)
	}
	if err := s.ds.Sync(ctx, seqKey(name)); err != nil {
		return 0, fmt.Errorf("failed to save the sequence number: %w", err)
	}
	return next, nil
}

// Publish signs a record pointing sk's name at value with the next
// sequence number and sends it on pubsub and to the DHT at once. Pubsub
// failing is an error; the DHT put goes on in the background, and
// DHTResult tells how it went.
func (s *System) Publish(ctx context.Context, sk crypto.PrivKey, value path.Path) (Published, error) {
	name, err := peer.IDFromPrivateKey(sk)
	if err != nil {
		return Published{}, err
	}
	seq, err := s.nextSeq(ctx, name)
	if err != nil {
		return Published{}, err
	}
	now := time.Now()
	rec, err := ipns.NewRecord(sk, value, seq, now.Add(Validity), TTL)
	if err != nil {
		return Published{}, fmt.Errorf("failed to make the IPNS record: %w", err)
	}
	raw, err := ipns.MarshalRecord(rec)
	if err != nil {
		return Published{}, fmt.Errorf("failed to encode the IPNS record: %w", err)
	}
	out := Published{Record: Record{Name: name, Value: value, Seq: seq, EOL: now.Add(Validity), Raw: raw}, At: now}
	s.stats.signed.Add(1)
	return out, s.put(ctx, name, raw, seq, &out)
}

// dhtTimeout bounds one DHT put.
const dhtTimeout = 30 * time.Second

// ErrDHTPending is DHTResult's error while the put still runs.
var ErrDHTPending = errors.New("still being sent to the DHT")

// put sends a record on pubsub, and starts its put to the DHT, ending a
// put of an older record of the name that still runs: the DHT should
// get the newest, and a burst of changes must not pile up puts to a peer
// that went away.
func (s *System) put(ctx context.Context, name peer.ID, raw []byte, seq uint64, out *Published) error {
	key := string(ipns.NameFromPeer(name).RoutingKey())
	dctx, cancel := context.WithTimeout(ctx, dhtTimeout)
	p := &dhtPut{seq: seq, cancel: cancel}
	s.mu.Lock()
	if old := s.puts[name]; old != nil && !old.done {
		old.cancel()
	}
	s.puts[name] = p
	s.mu.Unlock()
	s.stats.sent.Add(1)
	go func() {
		err := s.dht.PutValue(dctx, key, raw)
		cancel()
		s.stats.dhtDone(err)
		s.mu.Lock()
		p.done, p.err = true, err
		s.mu.Unlock()
		if err != nil {
			s.log.Debug("failed to put a record to the DHT", "name", name, "seq", seq, "err", err)
		}
	}()
	if s.ps != nil {
		if err := s.ps.PutValue(ctx, key, raw); err != nil {
			s.stats.pubsubFailed.Add(1)
			return fmt.Errorf("failed to send the record on pubsub: %w", err)
		}
		if out != nil {
			out.PubsubPeers = s.topicPeers(key)
		}
	}
	return nil
}

// DHTResult tells how the DHT put of the newest record this node sent
// for name went: its sequence number, and nil when the DHT took it,
// ErrDHTPending while the put runs, or why it failed. ok is false when
// this node sent no record of name.
func (s *System) DHTResult(name peer.ID) (seq uint64, err error, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.puts[name]
	if p == nil {
		return 0, nil, false
	}
	if !p.done {
		return p.seq, ErrDHTPending, true
	}
	return p.seq, p.err, true
}

// TopicPeers returns the peers this node knows to be on name's record
// topic: those a publication reaches at once.
func (s *System) TopicPeers(name peer.ID) []peer.ID {
	if s.pubsub == nil {
		return nil
	}
	return s.pubsub.ListPeers(psrouter.KeyToTopic(string(ipns.NameFromPeer(name).RoutingKey())))
}

// topicPeers counts the peers on a key's record topic.
func (s *System) topicPeers(key string) int {
	return len(s.pubsub.ListPeers(psrouter.KeyToTopic(key)))
}

// Local returns the best record this node holds for name (from pubsub or
// its DHT store) without asking the network.
func (s *System) Local(ctx context.Context, name peer.ID) (Record, error) {
	key := string(ipns.NameFromPeer(name).RoutingKey())
	if s.ps == nil {
		return Record{}, errors.New("no pubsub cache")
	}
	s.mu.Lock()
	seen, haveSeen := s.best[name]
	s.mu.Unlock()
	haveSeen = haveSeen && time.Now().Before(seen.EOL)
	b, err := s.ps.GetValue(ctx, key)
	if err != nil {
		if haveSeen {
			return seen, nil
		}
		return Record{}, err
	}
	r, err := parse(key, b)
	if err != nil || (haveSeen && better(seen, r)) {
		if haveSeen {
			return seen, nil
		}
	}
	return r, err
}

// better reports whether a is a better record than b of one name: a
// higher sequence, or the same one valid for longer (boxo's rule).
func better(a, b Record) bool {
	if a.Seq != b.Seq {
		return a.Seq > b.Seq
	}
	return a.EOL.After(b.EOL)
}

// Resolve returns the newest valid record for name: the pubsub cache
// first, then the DHT (within timeout), whichever has the higher sequence.
func (s *System) Resolve(ctx context.Context, name peer.ID, timeout time.Duration) (Record, error) {
	best, perr := s.Local(ctx, name)
	r, derr := s.ResolveDHT(ctx, name, timeout)
	if derr == nil && (perr != nil || r.Seq > best.Seq) {
		best, perr = r, nil
	}
	if perr != nil {
		return Record{}, fmt.Errorf("failed to resolve %s: not on pubsub (%v) nor on the DHT (%v)", name, perr, derr)
	}
	return best, nil
}

// ResolveDHT asks the DHT alone for name's newest record.
func (s *System) ResolveDHT(ctx context.Context, name peer.ID, timeout time.Duration) (Record, error) {
	key := string(ipns.NameFromPeer(name).RoutingKey())
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	b, err := s.dht.GetValue(dctx, key)
	if err != nil {
		return Record{}, err
	}
	return parse(key, b)
}

// Republish puts the best known record of name again (anyone may
// republish a valid record), so it outlives its publisher's absence.
func (s *System) Republish(ctx context.Context, name peer.ID) error {
	r, err := s.Local(ctx, name)
	if err != nil {
		return err
	}
	return s.put(ctx, name, r.Raw, r.Seq, nil)
}

// Host returns the host the system runs on.
func (s *System) Host() host.Host { return s.host }

// Accept takes in a record of name that came by other means than pubsub
// or the DHT (another device sent it over a stream of its own): it is
// validated as those are, kept as the best seen when it is, and given to
// the name's watchers.
func (s *System) Accept(name peer.ID, raw []byte) (Record, error) {
	r, err := s.validRecord(name, raw)
	if err != nil {
		return Record{}, fmt.Errorf("failed to take a record of %s: %w", name, err)
	}
	s.notify(r)
	return r, nil
}

// validRecord checks raw as a record of name and reads it.
func (s *System) validRecord(name peer.ID, raw []byte) (Record, error) {
	key := string(ipns.NameFromPeer(name).RoutingKey())
	if err := (ipns.Validator{KeyBook: s.host.Peerstore()}).Validate(key, raw); err != nil {
		return Record{}, fmt.Errorf("it is not valid: %w", err)
	}
	return parse(key, raw)
}
