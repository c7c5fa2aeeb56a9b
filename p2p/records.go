package p2p

import (
	"context"
	"encoding/base32"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipns"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	record "github.com/libp2p/go-libp2p-record"
	recpb "github.com/libp2p/go-libp2p-record/pb"
	"google.golang.org/protobuf/proto"
)

// recordNamespaces are the DHT record kinds the node's validator accepts
// and keeps: IPNS names and public keys.
var recordNamespaces = []string{"ipns", "pk"}

// recordKeyEncoding is how kad-dht's value store names a record in its
// datastore: "/" + namespace + "/" + base32 of the whole record key.
var recordKeyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// recordDsKey returns the datastore key kad-dht stores the record with
// routing key key under.
func recordDsKey(key string) ds.Key {
	ns, _, _ := record.SplitKey(key)
	return ds.NewKey("/" + ns + "/" + recordKeyEncoding.EncodeToString([]byte(key)))
}

// isRecordKey reports whether k is a value record's datastore key (not a
// provider record or anything else the DHT keeps).
func isRecordKey(k ds.Key) bool {
	ns := k.List()
	if len(ns) != 2 {
		return false
	}
	for _, r := range recordNamespaces {
		if ns[0] == r {
			return true
		}
	}
	return false
}

// recordStore is the DHT's datastore. It passes everything through, and
// keeps count of the value records it holds and their bytes, so that puts
// from other peers can be refused over the quota (see putGuard), and
// deletes expired records on Sweep.
//
// Writes of value records and the sweep's compare-and-delete take one
// lock, so a sweep never deletes a record that a put just replaced.
type recordStore struct {
	ds.Batching
	maxAge time.Duration

	mu    sync.Mutex
	sizes map[ds.Key]int // datastore key of each value record -> stored size
	bytes int64
}

// newRecordStore wraps d and counts the records it already holds.
func newRecordStore(ctx context.Context, d ds.Batching, maxAge time.Duration) (*recordStore, error) {
	s := &recordStore{Batching: d, maxAge: maxAge, sizes: map[ds.Key]int{}}
	for _, ns := range recordNamespaces {
		res, err := d.Query(ctx, dsq.Query{Prefix: "/" + ns, KeysOnly: true, ReturnsSizes: true})
		if err != nil {
			return nil, fmt.Errorf("failed to count DHT records: %w", err)
		}
		for r := range res.Next() {
			if r.Error != nil {
				res.Close()
				return nil, fmt.Errorf("failed to count DHT records: %w", r.Error)
			}
			if k := ds.RawKey(r.Key); isRecordKey(k) {
				s.sizes[k] = r.Size
				s.bytes += int64(r.Size)
			}
		}
		res.Close()
	}
	return s, nil
}

// Put stores a value and, for a value record, counts it.
func (s *recordStore) Put(ctx context.Context, k ds.Key, v []byte) error {
	if !isRecordKey(k) {
		return s.Batching.Put(ctx, k, v)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Batching.Put(ctx, k, v); err != nil {
		return err
	}
	s.counted(k, len(v))
	return nil
}

// Delete removes a value and, for a value record, its count.
func (s *recordStore) Delete(ctx context.Context, k ds.Key) error {
	if !isRecordKey(k) {
		return s.Batching.Delete(ctx, k)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Batching.Delete(ctx, k); err != nil {
		return err
	}
	s.counted(k, -1)
	return nil
}

// counted records that k now holds size bytes, or nothing if size < 0.
// The caller holds s.mu.
func (s *recordStore) counted(k ds.Key, size int) {
	if old, ok := s.sizes[k]; ok {
		s.bytes -= int64(old)
		delete(s.sizes, k)
	}
	if size >= 0 {
		s.sizes[k] = size
		s.bytes += int64(size)
	}
}

// Batch returns a batch whose value records are counted when it commits.
func (s *recordStore) Batch(ctx context.Context) (ds.Batch, error) {
	b, err := s.Batching.Batch(ctx)
	if err != nil {
		return nil, err
	}
	return &recordBatch{Batch: b, s: s}, nil
}

type recordBatch struct {
	ds.Batch
	s   *recordStore
	ops []recordOp
}

type recordOp struct {
	k    ds.Key
	size int // -1: deleted
}

func (b *recordBatch) Put(ctx context.Context, k ds.Key, v []byte) error {
	if isRecordKey(k) {
		b.ops = append(b.ops, recordOp{k, len(v)})
	}
	return b.Batch.Put(ctx, k, v)
}

func (b *recordBatch) Delete(ctx context.Context, k ds.Key) error {
	if isRecordKey(k) {
		b.ops = append(b.ops, recordOp{k, -1})
	}
	return b.Batch.Delete(ctx, k)
}

func (b *recordBatch) Commit(ctx context.Context) error {
	if len(b.ops) == 0 {
		return b.Batch.Commit(ctx)
	}
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if err := b.Batch.Commit(ctx); err != nil {
		return err
	}
	for _, op := range b.ops {
		b.s.counted(op.k, op.size)
	}
	b.ops = nil
	return nil
}

// holds reports whether a record is stored under k.
func (s *recordStore) holds(k ds.Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sizes[k]
	return ok
}

// usage returns the number of value records held and their bytes.
func (s *recordStore) usage() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sizes), s.bytes
}

// expired reports whether the stored record v should go at now: it does not
// parse, was received longer than maxAge ago (kad-dht ignores such records
// on reads, but keeps them on disk until its daily sweep), or is an IPNS
// record whose validity has ended.
func (s *recordStore) expired(k ds.Key, v []byte, now time.Time) bool {
	var rec recpb.Record
	if proto.Unmarshal(v, &rec) != nil {
		return true
	}
	got, err := time.Parse(time.RFC3339Nano, rec.GetTimeReceived())
	if err != nil {
		return true
	}
	if s.maxAge > 0 && now.Sub(got) > s.maxAge {
		return true
	}
	if strings.HasPrefix(k.String(), "/ipns/") {
		r, err := ipns.UnmarshalRecord(rec.GetValue())
		if err != nil {
			return true
		}
		eol, err := r.Validity()
		if err != nil || !now.Before(eol) {
			return true
		}
	}
	return false
}

// SweepResult says what a sweep of the DHT records removed.
type SweepResult struct {
	// Removed is the number of records deleted.
	Removed int
	// FreedBytes is the sum of their sizes.
	FreedBytes int64
}

// sweep deletes every value record expired at now.
func (s *recordStore) sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	for _, ns := range recordNamespaces {
		doomed, err := s.expiredKeys(ctx, "/"+ns, now)
		if err != nil {
			return res, err
		}
		for _, k := range doomed {
			n, err := s.deleteIfExpired(ctx, k, now)
			if err != nil {
				return res, err
			}
			if n >= 0 {
				res.Removed++
				res.FreedBytes += int64(n)
			}
		}
	}
	return res, nil
}

// expiredKeys lists the keys under prefix whose records have expired.
func (s *recordStore) expiredKeys(ctx context.Context, prefix string, now time.Time) ([]ds.Key, error) {
	res, err := s.Batching.Query(ctx, dsq.Query{Prefix: prefix})
	if err != nil {
		return nil, fmt.Errorf("failed to list DHT records: %w", err)
	}
	defer res.Close()
	var out []ds.Key
	for r := range res.Next() {
		if r.Error != nil {
			return nil, fmt.Errorf("failed to list DHT records: %w", r.Error)
		}
		if k := ds.RawKey(r.Key); isRecordKey(k) && s.expired(k, r.Value, now) {
			out = append(out, k)
		}
	}
	return out, nil
}

// deleteIfExpired deletes the record under k if it (still) has expired,
// and returns its size, or -1 if it was kept or is gone.
func (s *recordStore) deleteIfExpired(ctx context.Context, k ds.Key, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.Batching.Get(ctx, k)
	if err == ds.ErrNotFound {
		s.counted(k, -1)
		return -1, nil
	}
	if err != nil {
		return -1, fmt.Errorf("failed to read DHT record: %w", err)
	}
	if !s.expired(k, v, now) {
		return -1, nil
	}
	if err := s.Batching.Delete(ctx, k); err != nil {
		return -1, fmt.Errorf("failed to delete DHT record: %w", err)
	}
	s.counted(k, -1)
	return len(v), nil
}
