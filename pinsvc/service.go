package pinsvc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
)

// Pinner fetches and pins DAGs for the service.
type Pinner interface {
	// Pin fetches the DAG under c (trying origins, multiaddrs, first) and
	// pins it.
	Pin(ctx context.Context, c cid.Cid, origins []string) error
	// Unpin lets it go, unless another request pins it.
	Unpin(ctx context.Context, c cid.Cid) error
}

// Config configures a Service.
type Config struct {
	Datastore ds.Datastore // its requests and tokens
	Pinner    Pinner
	// Delegates are the node's multiaddrs (with /p2p/ID), which a client
	// connects to so that the node can fetch from it.
	Delegates func() []string
	Log       *slog.Logger
}

// Service is a Pinning Service API endpoint.
type Service struct {
	cfg  Config
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
	jobs chan struct{}

	mu     sync.Mutex
	reqs   map[string]*Status // by request ID
	tokens []Token
}

var reqPrefix = "/req/"

// Start loads the service's state and resumes the pins not yet done.
func Start(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, reqs: map[string]*Status{}, jobs: make(chan struct{}, 2)}
	s.ctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	if err := s.loadTokens(ctx); err != nil {
		return nil, err
	}
	res, err := cfg.Datastore.Query(ctx, dsq.Query{Prefix: reqPrefix})
	if err != nil {
		return nil, fmt.Errorf("failed to read the pinning service's requests: %w", err)
	}
	for r := range res.Next() {
		if r.Error != nil {
			return nil, fmt.Errorf("failed to read the pinning service's requests: %w", r.Error)
		}
		var st Status
		if err := json.Unmarshal(r.Value, &st); err != nil || st.RequestID == "" {
			cfg.Log.Warn("skipped a damaged pin request", "key", r.Key)
			continue
		}
		s.reqs[st.RequestID] = &st
	}
	res.Close()
	for _, st := range s.reqs {
		if st.Status != StatusPinned && st.Status != StatusFailed {
			s.run(st.RequestID)
		}
	}
	return s, nil
}

// Close stops the pins under way (they resume at the next Start).
func (s *Service) Close() {
	s.stop()
	s.wg.Wait()
}

// save writes st; the caller holds mu.
func (s *Service) save(ctx context.Context, st *Status) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.cfg.Datastore.Put(ctx, dsKey(st.RequestID), b)
}

// run pins request id in the background, two at a time.
func (s *Service) run(id string) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case s.jobs <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		defer func() { <-s.jobs }()
		s.mu.Lock()
		st := s.reqs[id]
		if st == nil {
			s.mu.Unlock()
			return
		}
		st.Status = StatusPinning
		s.save(s.ctx, st)
		c, origins := st.Pin.CID, slices.Clone(st.Pin.Origins)
		s.mu.Unlock()
		pc, err := cid.Decode(c)
		if err == nil {
			ctx, cancel := context.WithTimeout(s.ctx, time.Hour)
			err = s.cfg.Pinner.Pin(ctx, pc, origins)
			cancel()
		}
		if s.ctx.Err() != nil {
			return // stopped: resumed at the next start
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if st = s.reqs[id]; st == nil {
			return // deleted meanwhile
		}
		if err != nil {
			st.Status, st.Info = StatusFailed, map[string]string{"error": err.Error()}
			s.cfg.Log.Warn("failed to pin for a pinning client", "cid", c, "err", err)
		} else {
			st.Status = StatusPinned
			s.cfg.Log.Info("pinned for a pinning client", "cid", c)
		}
		s.save(s.ctx, st)
	}()
}

func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
