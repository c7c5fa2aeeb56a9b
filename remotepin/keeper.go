package remotepin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"

	"github.com/peer-cloud/peer/pinsvc"
)

// Service is one Pinning Service API endpoint the owner named, and what
// it was last asked.
type Service struct {
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	Token     string    `json:"token"`
	RequestID string    `json:"request_id,omitempty"` // the pin request kept there
	Root      string    `json:"root,omitempty"`       // the root it was asked to pin
	Status    string    `json:"status,omitempty"`     // queued, pinning, pinned, failed
	Checked   time.Time `json:"checked,omitzero"`
	Err       string    `json:"error,omitempty"`
}

// Config configures a Keeper.
type Config struct {
	Datastore ds.Datastore
	// Root gives the account root to keep pinned (undefined: none yet).
	Root func() cid.Cid
	// Name is the pin's name at each service.
	Name string
	// Origins are this node's multiaddrs, from which a service fetches.
	Origins func() []string
	// Every is how often the root is looked at (a service is asked only
	// when it changed, or while its request is not pinned yet).
	Every time.Duration
	Log   *slog.Logger
}

// Keeper keeps the account's root pinned at the services.
type Keeper struct {
	cfg  Config
	http *http.Client
	stop context.CancelFunc
	done chan struct{}
	poke chan struct{}

	mu       sync.Mutex
	services []Service
}

var servicesKey = ds.NewKey("/services")

// Start loads the services and keeps them up to date until Close.
func Start(ctx context.Context, cfg Config) (*Keeper, error) {
	if cfg.Every <= 0 {
		cfg.Every = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	k := &Keeper{cfg: cfg, http: &http.Client{}, done: make(chan struct{}), poke: make(chan struct{}, 1)}
	b, err := cfg.Datastore.Get(ctx, servicesKey)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &k.services); err != nil {
			return nil, fmt.Errorf("failed to read the remote pinning services (the datastore entry is damaged; add them again): %w", err)
		}
	case !errors.Is(err, ds.ErrNotFound):
		return nil, fmt.Errorf("failed to read the remote pinning services: %w", err)
	}
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	k.stop = stop
	go k.run(rctx)
	return k, nil
}

// Close stops keeping.
func (k *Keeper) Close() {
	k.stop()
	<-k.done
}

// saveLocked writes the services; the caller holds mu.
func (k *Keeper) saveLocked(ctx context.Context) error {
	b, err := json.Marshal(k.services)
	if err != nil {
		return err
	}
	return k.cfg.Datastore.Put(ctx, servicesKey, b)
}

// Add names a service to keep the account pinned at, and asks it at once.
func (k *Keeper) Add(ctx context.Context, name, endpoint, token string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL of a Pinning Service API endpoint", endpoint)
	}
	if name == "" || len(name) > 64 || token == "" {
		return errors.New("a service needs a name (at most 64 bytes) and a token")
	}
	k.mu.Lock()
	if slices.ContainsFunc(k.services, func(s Service) bool { return s.Name == name }) {
		k.mu.Unlock()
		return fmt.Errorf("a service named %q exists: remove it first", name)
	}
	k.services = append(k.services, Service{Name: name, URL: endpoint, Token: token})
	err = k.saveLocked(ctx)
	k.mu.Unlock()
	if err != nil {
		return err
	}
	k.Poke()
	return nil
}

// Remove forgets a service, deleting its pin request there (best effort).
func (k *Keeper) Remove(ctx context.Context, name string) error {
	k.mu.Lock()
	i := slices.IndexFunc(k.services, func(s Service) bool { return s.Name == name })
	if i < 0 {
		k.mu.Unlock()
		return fmt.Errorf("no remote pinning service %q ('peer replicas services' lists them)", name)
	}
	s := k.services[i]
	k.services = slices.Delete(k.services, i, i+1)
	err := k.saveLocked(ctx)
	k.mu.Unlock()
	if s.RequestID != "" {
		if rerr := (client{url: s.URL, token: s.Token, http: k.http}).remove(ctx, s.RequestID); rerr != nil {
			k.cfg.Log.Info("failed to delete the pin request at a service being removed", "service", name, "err", rerr)
		}
	}
	return err
}

// List returns the services, their tokens left out.
func (k *Keeper) List() []Service {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := slices.Clone(k.services)
	for i := range out {
		out[i].Token = ""
	}
	return out
}

// Poke has the keeper look at the root and the services now.
func (k *Keeper) Poke() {
	select {
	case k.poke <- struct{}{}:
	default:
	}
}

func (k *Keeper) run(ctx context.Context) {
	defer close(k.done)
	for {
		k.sync(ctx)
		t := time.NewTimer(k.cfg.Every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-k.poke:
			t.Stop()
		}
	}
}

// sync asks each service to pin the newest root (replacing its request
// for an older one), or how its request stands.
func (k *Keeper) sync(ctx context.Context) {
	root := k.cfg.Root()
	k.mu.Lock()
	list := slices.Clone(k.services)
	k.mu.Unlock()
	for _, s := range list {
		c := client{url: s.URL, token: s.Token, http: k.http}
		var st pinsvc.Status
		var err error
		switch {
		case root.Defined() && s.Root != root.String():
			st, err = c.add(ctx, s.RequestID, root, k.cfg.Name, k.cfg.Origins())
			if err != nil && s.RequestID != "" {
				// The request may be gone there: ask afresh.
				st, err = c.add(ctx, "", root, k.cfg.Name, k.cfg.Origins())
			}
			if err == nil {
				s.Root = root.String()
			}
		case s.RequestID != "" && s.Status != pinsvc.StatusPinned:
			st, err = c.status(ctx, s.RequestID)
		default:
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.Checked, s.Err = time.Now().UTC(), ""
		if err != nil {
			s.Err = err.Error()
			k.cfg.Log.Info("a remote pinning service failed", "service", s.Name, "err", err)
		} else {
			s.RequestID, s.Status = st.RequestID, st.Status
			if st.Status == pinsvc.StatusFailed && st.Info["error"] != "" {
				s.Err = st.Info["error"]
			}
		}
		k.mu.Lock()
		if i := slices.IndexFunc(k.services, func(o Service) bool { return o.Name == s.Name }); i >= 0 {
			s.Token = k.services[i].Token
			k.services[i] = s
			k.saveLocked(ctx)
		}
		k.mu.Unlock()
	}
}
