package folder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"time"

	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/vault"
)

// Options tune a Service; zero values take the defaults.
type Options struct {
	// Settle is how long a changed path must stay quiet before it is
	// scanned (default 100 ms).
	Settle time.Duration
	// MaxDelay is the longest a path that keeps changing waits (default
	// 30 s): a file written for several seconds is taken once, complete.
	MaxDelay time.Duration
	// Rescan is how often the whole folder is scanned besides the
	// watcher's events, give or take a quarter (default 1 h).
	Rescan time.Duration
	// Retry is how long a failed folder waits before trying again
	// (default 10 s).
	Retry time.Duration

	hook    func(stage, rel string) // tests: called at stages of a write
	noWatch bool                    // tests: no watcher; paths are marked by hand
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Settle, 100*time.Millisecond)
	def(&o.MaxDelay, 30*time.Second)
	def(&o.Rescan, time.Hour)
	def(&o.Retry, 10*time.Second)
	return o
}

// Service keeps this device's synced folders identical to their vault
// folders.
type Service struct {
	acct *account.Account
	ds   ds.Batching
	log  *slog.Logger
	opts Options

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	folders map[string]*running // by Dir
}

type running struct {
	f    *folder
	stop context.CancelFunc
	done chan struct{}
}

// New returns a service over the account, keeping its state in d (a
// namespace of the repo's datastore). Start starts the folders.
func New(acct *account.Account, d ds.Batching, log *slog.Logger, opts Options) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{acct: acct, ds: d, log: log, opts: opts.withDefaults(), ctx: ctx, cancel: cancel, folders: map[string]*running{}}
}

// Start starts syncing every folder stored.
func (s *Service) Start(ctx context.Context) error {
	cfgs, err := loadConfigs(ctx, s.ds)
	if err != nil {
		return err
	}
	for _, c := range cfgs {
		if err := s.start(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// Close stops every folder and waits for them.
func (s *Service) Close() error {
	s.cancel()
	s.mu.Lock()
	rs := make([]*running, 0, len(s.folders))
	for _, r := range s.folders {
		rs = append(rs, r)
	}
	s.mu.Unlock()
	for _, r := range rs {
		<-r.done
	}
	return nil
}

func (s *Service) start(ctx context.Context, c Config) error {
	id := folderID(c.Dir)
	ix, bad, err := loadIndex(ctx, s.ds, id)
	if err != nil {
		return err
	}
	f := &folder{
		cfg: c, id: id, acct: s.acct, ds: s.ds, opts: s.opts,
		log:   s.log.With("folder", c.Dir),
		ix:    ix,
		trees: map[string]cid.Cid{},
		kick:  make(chan struct{}, 1),
		dirty: map[string]dirtyPath{}, skipped: map[string]string{}, blocked: map[string]string{},
		state: StateIdle,
	}
	if len(bad) > 0 {
		f.warn(fmt.Errorf("dropped %d damaged index records (those paths are scanned as new; nothing is deleted)", len(bad)))
	}
	fctx, stop := context.WithCancel(s.ctx)
	r := &running{f: f, stop: stop, done: make(chan struct{})}
	heads, unwatch := s.acct.Watch()
	s.mu.Lock()
	s.folders[c.Dir] = r
	s.mu.Unlock()
	go func() {
		defer close(r.done)
		defer unwatch()
		f.run(fctx, heads)
	}()
	return nil
}

// Add ties the local folder dir to the vault folder to ("" : "/" and
// dir's name), making either if missing. What both already hold is
// merged: nothing is deleted on either side.
func (s *Service) Add(ctx context.Context, dir, to string) (Config, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Config{}, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return Config{}, fmt.Errorf("failed to make %s: %w", abs, err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return Config{}, err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return Config{}, fmt.Errorf("%s is not a folder", abs)
	}
	if to == "" {
		to = "/" + filepath.Base(abs)
	}
	if _, err := vault.SplitPath(to); err != nil {
		return Config{}, err
	}
	to = path.Clean(to)
	s.mu.Lock()
	for d, r := range s.folders {
		if inside(abs, d) || inside(d, abs) {
			s.mu.Unlock()
			return Config{}, fmt.Errorf("%s overlaps %s, which is synced already (with %s)", abs, d, r.f.cfg.Vault)
		}
		if v := r.f.cfg.Vault; under(to, v) || under(v, to) || to == "/" || v == "/" {
			s.mu.Unlock()
			return Config{}, fmt.Errorf("vault folder %s overlaps %s, which %s is synced with", to, v, d)
		}
	}
	s.mu.Unlock()
	if err := s.makeVaultFolder(ctx, to); err != nil {
		return Config{}, err
	}
	if err := makeMarker(abs); err != nil {
		return Config{}, err
	}
	c := Config{Dir: abs, Vault: to, Added: time.Now().UnixNano()}
	if err := saveConfig(ctx, s.ds, c); err != nil {
		return Config{}, err
	}
	s.log.Info("syncing a folder", "dir", abs, "vault", to)
	return c, s.start(ctx, c)
}

// inside reports whether the local path p is d or below it.
func inside(p, d string) bool {
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (rel == "." || !startsDotDot(rel))
}

func startsDotDot(rel string) bool {
	return len(rel) >= 3 && rel[:3] == ".."+string(filepath.Separator)
}

func (s *Service) makeVaultFolder(ctx context.Context, to string) error {
	_, err := s.acct.Change(ctx, false, func(ctx context.Context, t *vault.Tree) error {
		e, err := t.Stat(ctx, to)
		switch {
		case errors.Is(err, vault.ErrNotExist):
			return t.Mkdir(ctx, to, true, time.Now().UnixNano())
		case err != nil:
			return err
		case e.Kind != vault.KindDir:
			return fmt.Errorf("%s is a file in the vault; pick another folder with --to", to)
		}
		return nil
	})
	return err
}

// Remove stops syncing dir and forgets its state. Nothing is deleted, on
// disk or in the vault.
func (s *Service) Remove(ctx context.Context, dir string) error {
	r, err := s.find(dir)
	if err != nil {
		return err
	}
	r.stop()
	<-r.done
	s.mu.Lock()
	delete(s.folders, r.f.cfg.Dir)
	s.mu.Unlock()
	return dropFolder(ctx, s.ds, r.f.id)
}

// ErrNotSynced is wrapped by errors about a folder that is not synced.
var ErrNotSynced = errors.New("not a synced folder")

func (s *Service) find(dir string) (*running, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.folders[abs]; ok {
		return r, nil
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		if r, ok := s.folders[real]; ok {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%s: %w (see 'peer sync ls')", abs, ErrNotSynced)
}

// List returns the synced folders, by local path.
func (s *Service) List() []Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Config, 0, len(s.folders))
	for _, r := range s.folders {
		out = append(out, r.f.cfg)
	}
	slices.SortFunc(out, func(a, b Config) int { return cmpString(a.Dir, b.Dir) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Status describes one folder (dir not empty) or all of them.
func (s *Service) Status(dir string) ([]Status, error) {
	if dir != "" {
		r, err := s.find(dir)
		if err != nil {
			return nil, err
		}
		return []Status{r.f.status()}, nil
	}
	var out []Status
	for _, c := range s.List() {
		s.mu.Lock()
		r := s.folders[c.Dir]
		s.mu.Unlock()
		if r != nil {
			out = append(out, r.f.status())
		}
	}
	return out, nil
}
