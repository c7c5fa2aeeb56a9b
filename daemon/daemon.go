// Package daemon runs a node from its repo: the block store, the p2p node
// and the HTTP API the peer command talks to.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/dav"
	"github.com/peer-cloud/peer/donor"
	"github.com/peer-cloud/peer/link"
	"github.com/peer-cloud/peer/metrics"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
	"github.com/peer-cloud/peer/pinsvc"
	"github.com/peer-cloud/peer/remotepin"
	"github.com/peer-cloud/peer/replica"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/share"
	peersync "github.com/peer-cloud/peer/sync"
	"github.com/peer-cloud/peer/sync/folder"
	"github.com/peer-cloud/peer/vault"
)

// Daemon is a running node.
type Daemon struct {
	repo   *repo.Repo
	store  *blockstore.Store
	node   *p2p.Node
	acct   *account.Account
	names  *namesys.System
	sync   *peersync.Service
	link   *link.Offerer
	server *http.Server
	ln     net.Listener
	log    *slog.Logger
	done   chan error

	// WebDAV, on the API's listener and, with lan.listen, over TLS.
	dav     *dav.Handler
	lan     *http.Server
	lanAddr string
	apiMux  http.Handler // the API routes, without the token check (behind a web UI session)

	closeOnce sync.Once
	closeErr  error

	folders *folder.Service // the synced folders

	donor    *donor.Service  // the accounts this node mirrors (donor_handlers.go)
	replicas *replica.Server // answers who holds what (replica_handlers.go)
	// The IPFS Pinning Service API, on donor.pinning_listen (pinning_handlers.go).
	pinsvc     *pinsvc.Service
	remotePins *remotepin.Keeper // the owner's remote pinning services (replica_handlers.go)
	pinServer  *http.Server
	pinAddr    string

	metrics *prometheus.Registry // what /metrics serves (metrics_handlers.go)

	// Sharing (share_handlers.go): the account's following shares, the
	// vault that reads links over the network, the expiry timer.
	shares   *share.State
	links    *vault.Vault
	expiry   *time.Timer
	contacts *share.Contacts
	inbox    *share.Inbox
	// bg ends with the daemon: background fetches of published files.
	bg         context.Context
	bgStop     context.CancelFunc
	bgWG       sync.WaitGroup
	fetchSlots chan struct{}
}

// Start opens the repo's store, starts the node and serves the API. The
// caller must Close the daemon. When Start fails, what it had started is
// stopped again and the repo is left as it was (the store closed, no
// api.addr), so a later Start works once the cause is fixed.
func Start(ctx context.Context, r *repo.Repo, log *slog.Logger) (*Daemon, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{repo: r, log: log, done: make(chan error, 1)}
	if err := d.start(ctx); err != nil {
		if cerr := d.Close(); cerr != nil {
			log.Warn("failed to stop what had started", "err", cerr)
		}
		return nil, err
	}
	log.Info("daemon ready", "api", d.APIURL(), "id", d.node.Host().ID())
	return d, nil
}

// start fills in d's parts one by one; Close stops those it made.
func (d *Daemon) start(ctx context.Context) error {
	r, log := d.repo, d.log
	cfg := r.Config
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid %s in %s: %w", repo.ConfigFile, r.Dir, err)
	}
	profile, err := blockstore.ParseProfile(cfg.Profile)
	if err != nil {
		return err
	}
	peers, err := cfg.StaticPeers()
	if err != nil {
		return err
	}
	if d.store, err = blockstore.Open(ctx, r.BlocksDir(), profile, log.With("part", "blockstore")); err != nil {
		if errors.Is(err, blockstore.ErrLocked) {
			return fmt.Errorf("failed to start: another daemon is running on %s (stop it first, or use another repo): %w", r.Dir, err)
		}
		return err
	}
	donorOnly := cfg.Donor.Only // no account: see donor_handlers.go
	if !donorOnly {
		if d.acct, err = account.Open(ctx, r, d.store, log.With("part", "vault")); err != nil {
			return err
		}
	}
	d.metrics = metrics.NewRegistry()
	if d.node, err = p2p.New(ctx, p2p.Config{
		Identity:          r.Identity,
		Store:             d.store,
		ListenAddrs:       cfg.Network.Listen,
		MDNS:              cfg.Network.MDNS,
		StaticPeers:       peers,
		FetchWindow:       cfg.Network.FetchWindow,
		ReprovideInterval: cfg.Network.ReprovideInterval.Duration,
		Log:               log.With("part", "p2p"),
		Metrics:           d.metrics,
	}); err != nil {
		return err
	}
	ps := d.node.PubSub()
	if !cfg.Names.Pubsub {
		ps = nil
	}
	if d.names, err = namesys.New(ctx, d.node.Host(), d.node.DHT(), ps, d.store.Namespace("namesys"), log.With("part", "namesys")); err != nil {
		return err
	}
	if donorOnly {
		return d.startDonorOnly(ctx)
	}
	if err := d.startShares(ctx); err != nil {
		return err
	}
	if d.sync, err = peersync.Start(ctx, peersync.Config{
		Account: d.acct,
		Node:    d.node,
		Store:   d.store,
		Names:   d.names,
		Pubsub:  cfg.Names.Pubsub,
		CatchUp: cfg.Names.CatchUp.Duration,
		Dir:     r.BlocksDir(),
		Shares:  d.shares,
		Log:     log.With("part", "sync"),
	}); err != nil {
		return err
	}
	if err := d.startInbox(ctx); err != nil {
		return err
	}
	if err := d.startDonor(ctx); err != nil {
		return err
	}
	d.startLink()
	d.startReplicas()
	if err := d.askOpenDonors(ctx); err != nil {
		return err
	}
	if err := d.startRemotePins(ctx); err != nil {
		return err
	}
	d.folders = folder.New(d.acct, d.store.Namespace("folders"), log.With("part", "folders"), folder.Options{})
	if err := d.folders.Start(ctx); err != nil {
		return err
	}
	if d.ln, err = net.Listen("tcp", cfg.API.Listen); err != nil {
		return fmt.Errorf("failed to listen for the API on %s (is another daemon running? change api.listen in %s): %w", cfg.API.Listen, repo.ConfigFile, err)
	}
	d.server = &http.Server{
		Handler:           d.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go func() { d.done <- d.server.Serve(d.ln) }()
	if err := d.startLAN(); err != nil {
		return err
	}
	return r.WriteAPIAddr(d.APIURL())
}

// APIURL returns the base URL of the API.
func (d *Daemon) APIURL() string { return "http://" + d.ln.Addr().String() }

// Node returns the p2p node.
func (d *Daemon) Node() *p2p.Node { return d.node }

// Done receives the API server's error if the server stops by itself.
func (d *Daemon) Done() <-chan error { return d.done }

// Close stops the API, the node and the store, in that order, and removes
// the api.addr file. Later calls return the first call's result.
func (d *Daemon) Close() error {
	d.closeOnce.Do(func() { d.closeErr = d.close() })
	return d.closeErr
}

func (d *Daemon) close() error {
	var errs []error
	errs = append(errs, d.stopLAN())
	if d.expiry != nil {
		d.expiry.Stop()
	}
	if d.inbox != nil {
		d.inbox.Close()
	}

	if d.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := d.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("failed to stop API: %w", err))
			d.server.Close()
		}
		cancel()
	}
	if d.ln != nil {
		// Serve closes it too, unless Start failed before it ran.
		d.ln.Close()
	}
	if d.store != nil {
		// This daemon holds the store's lock, so no other daemon runs on
		// the repo: an api.addr there is this one's, or a crashed one's.
		errs = append(errs, d.repo.RemoveAPIAddr())
	}
	if d.folders != nil {
		d.folders.Close()
	}
	if d.replicas != nil {
		d.replicas.Close()
	}
	d.stopPinning()
	if d.remotePins != nil {
		d.remotePins.Close()
	}
	if d.donor != nil {
		d.donor.Close()
	}
	if d.link != nil {
		d.link.Close()
	}
	if d.sync != nil {
		d.sync.Close()
	}
	if d.bgStop != nil {
		// After sync, which learns what starts these fetches.
		d.bgStop()
		d.bgWG.Wait()
	}
	if d.node != nil {
		errs = append(errs, d.node.Close())
	}
	if d.store != nil {
		errs = append(errs, d.store.Close())
	}
	return errors.Join(errs...)
}
