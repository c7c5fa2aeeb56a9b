package p2p

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p-kad-dht/amino"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"
)

// RecordLimits bound what other peers can make this node store in its
// DHT. Any peer may put valid records, and anyone can make valid IPNS
// records for fresh keys without end, so without bounds a LAN peer fills
// the disk (20 000 puts added 260 MiB in 11 s). The zero value of each
// field means its profile's default.
//
// Records this node puts itself (its account's name, through the DHT's
// PutValue) never pass through these limits, and a new version of a
// record already held is always taken (it replaces the old one), so a
// flood can neither starve the node's own records nor the updates of
// records it held before. What a flood can do is fill the quota so that
// records of names new to this node are refused until the flood's records
// expire; their publishers still hold and serve them, and pubsub carries
// them.
type RecordLimits struct {
	// MaxRecords is how many value records (IPNS names and public keys)
	// the node holds at most before it refuses new ones from others.
	MaxRecords int
	// MaxBytes bounds the stored bytes of those records in the same way.
	MaxBytes int64
	// PeerRate is how many PUT_VALUE messages per second one peer may send
	// on average, PeerBurst how many at once; the rest are refused.
	PeerRate  float64
	PeerBurst int
}

// withDefaults fills the zero fields from d.
func (l RecordLimits) withDefaults(d RecordLimits) RecordLimits {
	if l.MaxRecords <= 0 {
		l.MaxRecords = d.MaxRecords
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.PeerRate <= 0 {
		l.PeerRate = d.PeerRate
	}
	if l.PeerBurst <= 0 {
		l.PeerBurst = d.PeerBurst
	}
	return l
}

// recordMaxAge is how long a record received from a peer is kept: kad-dht's
// default, well above the 4 h at which publishers put their records again.
const recordMaxAge = amino.DefaultMaxRecordAge

// recordSweepInterval is how often expired records are deleted; a full
// quota also asks for a sweep, at most once per recordSweepGap.
const (
	recordSweepInterval = 10 * time.Minute
	recordSweepGap      = time.Minute
)

// maxTrackedPeers bounds the per-peer rate state; beyond it, peers whose
// allowance is full again are forgotten.
const maxTrackedPeers = 1024

// putGuard decides, for each PUT_VALUE message another peer sends, whether
// the DHT may handle it. kad-dht gives its datastore no sender, but calls
// OnRequestHook with the stream before it handles a message; a refused
// message has its record removed, which makes kad-dht's handler fail and
// reset the stream, as it does for a malformed put.
type putGuard struct {
	store   *recordStore
	lim     RecordLimits
	log     *slog.Logger
	now     func() time.Time
	full    chan struct{} // signalled when the quota refuses a record
	refused atomic.Uint64

	mu       sync.Mutex
	peers    map[peer.ID]*allowance
	lastWarn time.Time
}

// allowance is a token bucket.
type allowance struct {
	tokens float64
	at     time.Time
}

func newPutGuard(store *recordStore, lim RecordLimits, log *slog.Logger) *putGuard {
	return &putGuard{
		store: store, lim: lim, log: log, now: time.Now,
		full:  make(chan struct{}, 1),
		peers: map[peer.ID]*allowance{},
	}
}

// onRequest is the DHT's OnRequestHook.
func (g *putGuard) onRequest(_ context.Context, s network.Stream, req *pb.Message) {
	if req.GetType() != pb.Message_PUT_VALUE || req.GetRecord() == nil {
		return
	}
	from := s.Conn().RemotePeer()
	why := g.admit(from, req.GetRecord().GetKey(), proto.Size(req.GetRecord()))
	if why == "" {
		return
	}
	req.Record = nil
	g.refused.Add(1)
	g.mu.Lock()
	warn := g.now().Sub(g.lastWarn) >= time.Minute
	if warn {
		g.lastWarn = g.now()
	}
	g.mu.Unlock()
	if warn {
		g.log.Info("refusing DHT records from other peers", "reason", why, "peer", from, "refused_so_far", g.refused.Load())
	}
}

// receivedStampSize is what kad-dht adds to a record before storing it
// (its receive time).
const receivedStampSize = 40

// admit returns why a put of the record under key, of about size bytes,
// from peer p is refused, or "" if it is allowed.
func (g *putGuard) admit(p peer.ID, key []byte, size int) string {
	if !g.allow(p) {
		return "peer sends too fast"
	}
	k := recordDsKey(string(key))
	if g.store.holds(k) {
		return ""
	}
	n, b := g.store.usage()
	if n+1 > g.lim.MaxRecords || b+int64(size+receivedStampSize) > g.lim.MaxBytes {
		select {
		case g.full <- struct{}{}:
		default:
		}
		return "record quota full"
	}
	return ""
}

// allow takes one message from p's allowance.
func (g *putGuard) allow(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	a := g.peers[p]
	if a == nil {
		if len(g.peers) >= maxTrackedPeers {
			g.forgetIdle(now)
		}
		a = &allowance{tokens: float64(g.lim.PeerBurst), at: now}
		g.peers[p] = a
	}
	a.tokens = min(float64(g.lim.PeerBurst), a.tokens+now.Sub(a.at).Seconds()*g.lim.PeerRate)
	a.at = now
	if a.tokens < 1 {
		return false
	}
	a.tokens--
	return true
}

// forgetIdle drops the peers whose allowance is full again. The caller
// holds g.mu.
func (g *putGuard) forgetIdle(now time.Time) {
	for p, a := range g.peers {
		if a.tokens+now.Sub(a.at).Seconds()*g.lim.PeerRate >= float64(g.lim.PeerBurst) {
			delete(g.peers, p)
		}
	}
}

// RecordStat describes the DHT records the node holds for itself and
// others.
type RecordStat struct {
	// Records and Bytes are the value records (IPNS names, public keys)
	// held and their stored size.
	Records int
	Bytes   int64
	// MaxRecords and MaxBytes are the quota beyond which records from
	// other peers are refused.
	MaxRecords int
	MaxBytes   int64
	// Refused counts the puts from other peers refused since start (over
	// the quota or a peer's rate).
	Refused uint64
}

// RecordStat returns what the DHT holds and its quota.
func (n *Node) RecordStat() RecordStat {
	c, b := n.records.usage()
	return RecordStat{
		Records: c, Bytes: b,
		MaxRecords: n.guard.lim.MaxRecords, MaxBytes: n.guard.lim.MaxBytes,
		Refused: n.guard.refused.Load(),
	}
}

// SweepRecords deletes the DHT records that have expired: IPNS records
// past their validity, and records received longer ago than kad-dht's
// maximum record age. The node also sweeps at start, every 10 minutes and
// when the quota refuses a record.
func (n *Node) SweepRecords(ctx context.Context) (SweepResult, error) {
	return n.sweepRecordsAt(ctx, time.Now())
}

// sweepRecordsAt is SweepRecords as if the time were now.
func (n *Node) sweepRecordsAt(ctx context.Context, now time.Time) (SweepResult, error) {
	res, err := n.records.sweep(ctx, now)
	if err != nil {
		return res, fmt.Errorf("failed to sweep DHT records: %w", err)
	}
	if res.Removed > 0 {
		n.log.Info("deleted expired DHT records", "removed", res.Removed, "freed", res.FreedBytes)
	}
	return res, nil
}

// sweepRecordsLoop sweeps at start, every recordSweepInterval, and when the
// quota is full (at most once per recordSweepGap), until ctx ends.
func (n *Node) sweepRecordsLoop(ctx context.Context) {
	sweep := func() {
		if _, err := n.SweepRecords(ctx); err != nil && ctx.Err() == nil {
			n.log.Warn("failed to sweep DHT records", "err", err)
		}
	}
	sweep()
	last := time.Now()
	t := time.NewTicker(recordSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.guard.full:
			if time.Since(last) < recordSweepGap {
				continue
			}
		}
		sweep()
		last = time.Now()
	}
}
