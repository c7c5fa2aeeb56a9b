package donor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Service serves accounts: one mirror per account, each following the
// account's records and keeping its DAG.
type Service struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	admitMu  sync.Mutex // serialises Admit
	mu       sync.Mutex
	mirrors  map[peer.ID]*mirror
	settings settings
	changed  chan struct{} // closed and replaced at every change of state

	// fetched counts the bytes fetched since Start, for tests and status.
	fetched atomic.Int64
}

// Start serves the configured accounts and those added before, until
// Close.
func Start(ctx context.Context, cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if cfg.Node == nil || cfg.Store == nil || cfg.Names == nil || cfg.Datastore == nil {
		return nil, errors.New("failed to start the donor: node, store, names and datastore are required")
	}
	s := &Service{cfg: cfg, log: cfg.Log, mirrors: map[peer.ID]*mirror{}, changed: make(chan struct{})}
	b, err := cfg.Datastore.Get(ctx, settingsKey)
	switch {
	case err == nil:
		st, err := parseSettings(b)
		if err != nil {
			return nil, fmt.Errorf("failed to start the donor (remove its settings with 'peer donate stop' on each account, or fix them): %w", err)
		}
		s.settings = *st
	case !errors.Is(err, ds.ErrNotFound):
		return nil, fmt.Errorf("failed to read the donor's settings: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	cfg.Store.AddRoots(s.gcRoots)
	cfg.Store.AddDirectRoots(s.directRoots)
	for _, id := range s.served() {
		if err := s.startMirror(ctx, id); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.wg.Add(1)
	go s.republishLoop()
	if s.open() {
		cfg.Node.Host().SetStreamHandler(AskProtocol, s.serveAsk)
	}
	return s, nil
}

// open reports whether the donor takes accounts that ask.
func (s *Service) open() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.settings.Open != nil {
		return *s.settings.Open
	}
	return s.cfg.Open
}

// SetOpen makes the donor open (it takes any account whose device asks,
// within the quota) or not, over the config; it is kept across restarts.
// Accounts taken while open stay served.
func (s *Service) SetOpen(ctx context.Context, open bool) error {
	s.admitMu.Lock()
	defer s.admitMu.Unlock()
	s.mu.Lock()
	prev := s.settings.Open
	s.settings.Open = &open
	err := s.saveSettings(ctx)
	if err != nil {
		s.settings.Open = prev
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// Devices learn it from the protocols the node speaks: identify
	// pushes the change to those connected.
	if open {
		s.cfg.Node.Host().SetStreamHandler(AskProtocol, s.serveAsk)
	} else {
		s.cfg.Node.Host().RemoveStreamHandler(AskProtocol)
	}
	s.notify()
	return nil
}

// Close stops every mirror and waits for them.
func (s *Service) Close() {
	s.cfg.Node.Host().RemoveStreamHandler(AskProtocol)
	s.cancel()
	s.wg.Wait()
}

// served lists the accounts to serve: the config's, less those stopped,
// and those added.
func (s *Service) served() []peer.ID {
	var out []peer.ID
	for _, id := range s.cfg.Accounts {
		if !slices.Contains(s.settings.Stopped, id.String()) {
			out = append(out, id)
		}
	}
	for _, a := range s.settings.Added {
		if id, err := peer.Decode(a); err == nil && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (s *Service) saveSettings(ctx context.Context) error {
	b, err := jsonMarshal(s.settings)
	if err != nil {
		return err
	}
	if err := s.cfg.Datastore.Put(ctx, settingsKey, b); err != nil {
		return fmt.Errorf("failed to save the donor's settings: %w", err)
	}
	return nil
}

// Serve starts serving accounts (those served already go on), and sets
// the quotas when not nil. It is kept across restarts.
func (s *Service) Serve(ctx context.Context, ids []peer.ID, quota, perAccount *int64) error {
	s.mu.Lock()
	for _, id := range ids {
		s.settings.Stopped = slices.DeleteFunc(s.settings.Stopped, func(a string) bool { return a == id.String() })
		if !slices.Contains(s.cfg.Accounts, id) && !slices.Contains(s.settings.Added, id.String()) {
			s.settings.Added = append(s.settings.Added, id.String())
		}
	}
	if quota != nil {
		s.settings.Quota = quota
	}
	if perAccount != nil {
		s.settings.PerAccount = perAccount
	}
	err := s.saveSettings(ctx)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.startMirror(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// ErrNotServed is returned for an account the donor does not serve.
var ErrNotServed = errors.New("this donor does not serve that account")

// Stop stops serving an account and lets go of what it held (the next
// GC frees it).
func (s *Service) Stop(ctx context.Context, id peer.ID) error {
	s.mu.Lock()
	m := s.mirrors[id]
	delete(s.mirrors, id)
	s.settings.Added = slices.DeleteFunc(s.settings.Added, func(a string) bool { return a == id.String() })
	// Kept for accounts of the config, and for one that asked an open
	// donor, so that it is not taken back on its next request.
	if !slices.Contains(s.settings.Stopped, id.String()) {
		s.settings.Stopped = append(s.settings.Stopped, id.String())
	}
	err := s.saveSettings(ctx)
	s.mu.Unlock()
	if m == nil {
		return fmt.Errorf("failed to stop serving %s: %w", id, ErrNotServed)
	}
	m.cancel()
	<-m.done
	if err != nil {
		return err
	}
	if err := s.cfg.Datastore.Delete(ctx, heldKey(id)); err != nil {
		return fmt.Errorf("failed to forget %s: %w", id, err)
	}
	s.notify()
	return nil
}

// Limits returns the quotas in force (bytes; 0: no bound).
func (s *Service) Limits() (quota, perAccount int64) { return s.limits() }

// limits returns the quotas in force.
func (s *Service) limits() (quota, perAccount int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	quota, perAccount = s.cfg.Quota, s.cfg.PerAccount
	if s.settings.Quota != nil {
		quota = *s.settings.Quota
	}
	if s.settings.PerAccount != nil {
		perAccount = *s.settings.PerAccount
	}
	return quota, perAccount
}

// allowed is how many bytes account m may hold in all: 0 means no
// bound.
func (s *Service) allowed(m *mirror) int64 {
	quota, per := s.limits()
	b := per
	if quota > 0 {
		var others int64
		for _, o := range s.mirrorList() {
			if o != m {
				others += o.bytes()
			}
		}
		left := max(quota-others, 1)
		if b == 0 || left < b {
			b = left
		}
	}
	return b
}

// budget is how many more bytes account m may take: 0 means no bound,
// a negative number none at all.
func (s *Service) budget(m *mirror, own int64) int64 {
	quota, per := s.limits()
	var b int64
	if per > 0 {
		b = per - own
		if b <= 0 {
			return -1
		}
	}
	if quota > 0 {
		var used int64
		for _, o := range s.mirrorList() {
			if o == m {
				used += own
				continue
			}
			used += o.bytes()
		}
		left := quota - used
		if left <= 0 {
			return -1
		}
		if b == 0 || left < b {
			b = left
		}
	}
	return b
}

func (s *Service) mirrorList() []*mirror {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*mirror, 0, len(s.mirrors))
	for _, m := range s.mirrors {
		out = append(out, m)
	}
	return out
}

// gcRoots lists the trees of every snapshot kept, for GC to keep whole.
func (s *Service) gcRoots(context.Context) ([]cid.Cid, error) {
	var out []cid.Cid
	for _, m := range s.mirrorList() {
		m.mu.Lock()
		for _, k := range m.h.Kept {
			out = append(out, k.Tree)
		}
		m.mu.Unlock()
	}
	return out, nil
}

// Updated returns a channel closed at the next change of what the donor
// holds or knows.
func (s *Service) Updated() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Service) notify() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Fetched returns the bytes fetched from peers since Start.
func (s *Service) Fetched() int64 { return s.fetched.Load() }
