package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/pinsvc"
	"github.com/peer-cloud/peer/repo"
)

// pinningPinner fetches and pins for the pinning service.
type pinningPinner struct{ d *Daemon }

func (p pinningPinner) Pin(ctx context.Context, c cid.Cid, origins []string) error {
	d := p.d
	// The origins (the client's node, say) first: connect to those on
	// the LAN (the node dials no other address) so Bitswap asks them.
	for _, o := range origins {
		a, err := ma.NewMultiaddr(o)
		if err != nil {
			continue
		}
		if ai, err := peer.AddrInfoFromP2pAddr(a); err == nil {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			d.node.Host().Connect(cctx, *ai)
			cancel()
		}
	}
	unlock := d.store.Blockstore().PinLock(ctx)
	defer unlock.Unlock(ctx)
	if err := d.node.FetchDAG(ctx, c, nil); err != nil {
		return fmt.Errorf("failed to fetch %s: %w", c, err)
	}
	return d.pin(ctx, c)
}

func (p pinningPinner) Unpin(ctx context.Context, c cid.Cid) error {
	err := p.d.store.Pinner().Unpin(ctx, c, true)
	if errors.Is(err, pin.ErrNotPinned) {
		return nil
	}
	return err
}

// startPinning serves the IPFS Pinning Service API on
// donor.pinning_listen, when set (plain HTTP: every request needs a token
// from 'peer donate pinning-token').
func (d *Daemon) startPinning(ctx context.Context) error {
	addr := d.repo.Config.Donor.PinningListen
	if addr == "" {
		return nil
	}
	svc, err := pinsvc.Start(ctx, pinsvc.Config{
		Datastore: d.store.Namespace("pinsvc"),
		Pinner:    pinningPinner{d},
		Delegates: d.addrsWithID,
		Log:       d.log.With("part", "pinsvc"),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		svc.Close()
		return fmt.Errorf("failed to listen for the pinning service at %s (change donor.pinning_listen in %s): %w", addr, repo.ConfigFile, err)
	}
	d.pinsvc = svc
	d.pinAddr = ln.Addr().String()
	d.pinServer = &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelDebug)}
	go func() {
		if err := d.pinServer.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			d.log.Warn("the pinning service stopped", "err", err)
		}
	}()
	d.log.Info("serving the IPFS Pinning Service API", "url", "http://"+d.pinAddr)
	return nil
}

func (d *Daemon) stopPinning() {
	if d.pinServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d.pinServer.Shutdown(ctx)
		cancel()
	}
	if d.pinsvc != nil {
		d.pinsvc.Close()
	}
}

func (d *Daemon) pinningOff() error {
	return &httpError{http.StatusConflict, fmt.Errorf("the pinning service is off: set donor.pinning_listen (e.g. \"0.0.0.0:5011\") in %s and restart the daemon", repo.ConfigFile)}
}

func pinningToken(t pinsvc.Token) api.PinningToken {
	return api.PinningToken{ID: t.ID, Name: t.Name, Issued: t.Issued}
}

// handlePinningToken issues a token for a pinning client (?name=, may
// be empty).
func (d *Daemon) handlePinningToken(w http.ResponseWriter, r *http.Request) error {
	if d.pinsvc == nil {
		return d.pinningOff()
	}
	tok, t, err := d.pinsvc.NewToken(r.Context(), r.URL.Query().Get("name"))
	if err != nil {
		return badRequest(err)
	}
	out := pinningToken(t)
	out.Token, out.Endpoint = tok, "http://"+d.pinAddr
	return writeJSON(w, http.StatusOK, out)
}

// handlePinningTokens lists the tokens issued (never the tokens).
func (d *Daemon) handlePinningTokens(w http.ResponseWriter, r *http.Request) error {
	if d.pinsvc == nil {
		return d.pinningOff()
	}
	out := []api.PinningToken{}
	for _, t := range d.pinsvc.Tokens() {
		out = append(out, pinningToken(t))
	}
	return writeJSON(w, http.StatusOK, out)
}

// handlePinningRevoke revokes ?token= (its ID or the token itself).
func (d *Daemon) handlePinningRevoke(w http.ResponseWriter, r *http.Request) error {
	if d.pinsvc == nil {
		return d.pinningOff()
	}
	t, err := d.pinsvc.Revoke(r.Context(), r.URL.Query().Get("token"))
	if errors.Is(err, pinsvc.ErrNoToken) {
		return notFound(err)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pinningToken(t))
}
