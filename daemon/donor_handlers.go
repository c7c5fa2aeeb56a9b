package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/donor"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

// startDonor starts serving the accounts of the config's [donor] section
// and those 'peer donate' added.
func (d *Daemon) startDonor(ctx context.Context) error {
	cfg := d.repo.Config
	ids, err := cfg.DonorAccounts()
	if err != nil {
		return err
	}
	d.donor, err = donor.Start(ctx, donor.Config{
		Node:       d.node,
		Store:      d.store,
		Names:      d.names,
		Datastore:  d.store.Namespace("donor"),
		Accounts:   ids,
		Quota:      int64(cfg.Donor.Quota),
		PerAccount: int64(cfg.Donor.PerAccount),
		Open:       cfg.Donor.Open,
		Keep:       donor.Keep{Snapshots: cfg.Donor.KeepSnapshots, For: cfg.Donor.KeepFor.Duration},
		CatchUp:    cfg.Names.CatchUp.Duration,
		Republish:  cfg.Donor.RepublishInterval.Duration,
		Log:        d.log.With("part", "donor"),
	})
	if err != nil {
		return err
	}
	return d.startPinning(ctx)
}

func donorStatus(st donor.Status) api.DonorStatus {
	out := api.DonorStatus{Quota: st.Quota, PerAccount: st.PerAccount, Used: st.Used, Open: st.Open, KeepSnapshots: st.Keep.Snapshots,
		KeepFor: st.Keep.For, Fetched: st.Fetched, Accounts: []api.DonorAccount{}}
	for _, a := range st.Accounts {
		out.Accounts = append(out.Accounts, api.DonorAccount{Account: a.Account, Root: a.Root, Head: a.Head, RootSeq: a.RootSeq,
			Seq: a.Seq, EOL: a.EOL.UTC(), Bytes: a.Bytes, Snapshots: a.Snapshots, Cut: a.Cut, Refused: a.Refused,
			LastChange: a.LastChange.UTC(), LastRepublish: a.LastRepublish.UTC(), Error: a.Err})
	}
	return out
}

func (d *Daemon) handleDonorStatus(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, donorStatus(d.donor.Status()))
}

// handleDonorServe serves ?accounts=A,B and sets ?quota= and
// ?per_account= (bytes) and ?open= (true or false) when given.
func (d *Daemon) handleDonorServe(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var ids []peer.ID
	if s := q.Get("accounts"); s != "" {
		for _, a := range strings.Split(s, ",") {
			id, err := vault.ParseAccountID(strings.TrimSpace(a))
			if err != nil {
				return badRequest(fmt.Errorf("%q is not an account ID (k51..., as 'peer status' shows it on the account's device): %w", a, err))
			}
			ids = append(ids, id)
		}
	}
	size := func(name string) (*int64, error) {
		s := q.Get(name)
		if s == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return nil, badRequest(fmt.Errorf("%s=%q is not a byte count", name, s))
		}
		return &n, nil
	}
	quota, err := size("quota")
	if err != nil {
		return err
	}
	per, err := size("per_account")
	if err != nil {
		return err
	}
	var open *bool
	if s := q.Get("open"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return badRequest(fmt.Errorf("open=%q is not true or false", s))
		}
		open = &b
	}
	if err := d.donor.Serve(r.Context(), ids, quota, per); err != nil {
		return err
	}
	if open != nil {
		if _, per := d.donor.Limits(); *open && per == 0 {
			return badRequest(errors.New("an open donor takes each account that asks at a per-account bound, and none is set: give one too (peer donate --open --per-account 10GiB)"))
		}
		if err := d.donor.SetOpen(r.Context(), *open); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, donorStatus(d.donor.Status()))
}

func (d *Daemon) handleDonorStop(w http.ResponseWriter, r *http.Request) error {
	id, err := vault.ParseAccountID(r.URL.Query().Get("account"))
	if err != nil {
		return badRequest(err)
	}
	if err := d.donor.Stop(r.Context(), id); err != nil {
		if errors.Is(err, donor.ErrNotServed) {
			return notFound(err)
		}
		return err
	}
	return writeJSON(w, http.StatusOK, donorStatus(d.donor.Status()))
}

// startDonorOnly finishes starting a node with no account of its own
// (donor.only): the donor and an API of the routes that need no account.
func (d *Daemon) startDonorOnly(ctx context.Context) error {
	if err := d.startDonor(ctx); err != nil {
		return err
	}
	d.startReplicas()
	var err error
	if d.ln, err = net.Listen("tcp", d.repo.Config.API.Listen); err != nil {
		return fmt.Errorf("failed to listen for the API on %s (is another daemon running? change api.listen in %s): %w", d.repo.Config.API.Listen, repo.ConfigFile, err)
	}
	d.server = &http.Server{
		Handler:           d.donorRoutes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelDebug),
	}
	go func() { d.done <- d.server.Serve(d.ln) }()
	return d.repo.WriteAPIAddr(d.APIURL())
}

// donorRoutes is the API of a donor with no account: the donor's, the
// node's and the repo's; the rest answers that there is no account.
func (d *Daemon) donorRoutes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h handler) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+api.Version+path, d.serve(h))
	}
	handle("GET /id", d.handleID)
	handle("GET /peers", d.handlePeers)
	handle("GET /stats/bitswap", d.handleBitswapStat)
	handle("GET /repo/stat", d.handleRepoStat)
	handle("POST /repo/gc", d.handleRepoGC)
	handle("GET /repo/verify", d.handleRepoVerify)
	handle("GET /pin/ls", d.handlePinLs)
	handle("GET /donor", d.handleDonorStatus)
	handle("POST /donor/serve", d.handleDonorServe)
	handle("POST /donor/stop", d.handleDonorStop)
	handle("POST /donor/pinning-token", d.handlePinningToken)
	handle("GET /donor/pinning-tokens", d.handlePinningTokens)
	handle("POST /donor/pinning-token/revoke", d.handlePinningRevoke)
	mux.Handle("GET /metrics", d.metricsHandler())
	mux.Handle("/", d.serve(func(http.ResponseWriter, *http.Request) error {
		return &httpError{http.StatusConflict, errors.New("this node is a donor with no account of its own (donor.only in config.toml): it serves only 'peer donate', 'peer id', 'peer peers' and 'peer repo'")}
	}))
	// The web UI too, with its Donor and Node pages (a headless board is
	// looked after from a browser through an SSH tunnel to the API's port).
	return d.checkHost(d.withWebUI(mux, d.auth(mux)))
}

// askOpenDonors asks each open donor that connects (one that speaks
// donor.AskProtocol) to serve this account, once per donor while the
// daemon runs: a donor holds only encrypted blocks, so any on the LAN may
// keep the account's files and name alive.
func (d *Daemon) askOpenDonors(ctx context.Context) error {
	h := d.node.Host()
	// A donor made open while connected ('peer donate --open') tells
	// its peers by identify push: a protocols update.
	sub, err := h.EventBus().Subscribe([]any{new(event.EvtPeerIdentificationCompleted), new(event.EvtPeerProtocolsUpdated)})
	if err != nil {
		return fmt.Errorf("failed to watch for donors: %w", err)
	}
	asked := map[peer.ID]bool{}
	ask := func(p peer.ID) {
		if asked[p] {
			return
		}
		asked[p] = true
		d.bgWG.Add(1)
		go func() {
			defer d.bgWG.Done()
			if ok, err := donor.Ask(d.bg, h, p, d.acct.Keys().SigningKey()); ok {
				d.log.Info("an open donor serves the account", "donor", p)
			} else {
				d.log.Info("an open donor does not serve the account", "donor", p, "why", err)
			}
		}()
	}
	d.bgWG.Add(1)
	go func() {
		defer d.bgWG.Done()
		defer sub.Close()
		// Peers identified before the subscription, then each one after.
		for _, p := range h.Network().Peers() {
			if ps, err := h.Peerstore().SupportsProtocols(p, donor.AskProtocol); err == nil && len(ps) > 0 {
				ask(p)
			}
		}
		for {
			select {
			case <-d.bg.Done():
				return
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				switch ev := e.(type) {
				case event.EvtPeerIdentificationCompleted:
					if slices.Contains(ev.Protocols, protocol.ID(donor.AskProtocol)) {
						ask(ev.Peer)
					}
				case event.EvtPeerProtocolsUpdated:
					if slices.Contains(ev.Added, protocol.ID(donor.AskProtocol)) {
						delete(asked, ev.Peer) // open again: ask again
						ask(ev.Peer)
					}
				}
			}
		}
	}()
	return nil
}
