package daemon

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/vault"
)

func (d *Daemon) handleStatus(w http.ResponseWriter, r *http.Request) error {
	out := api.Status{Account: d.acct.Keys().ID(), Device: d.repo.PeerID().String(), Peers: d.peerList()}
	if h := d.acct.Head(); h != nil {
		out.Head, out.Seq = h.CID.String(), h.Seq
	}
	n := d.names
	n.mu.Lock()
	for id := range n.devices {
		out.Devices = append(out.Devices, id)
	}
	if p := n.last; p != nil {
		dht := "ok"
		if p.DHTErr != nil {
			dht = p.DHTErr.Error()
		}
		out.LastPublish = &api.Publish{Time: p.At.UTC(), Root: n.lastRoot.String(), Seq: p.Seq, PubsubPeers: p.PubsubPeers, DHTPeers: n.lastDHTPeers, DHT: dht}
	}
	if n.lastErr != nil {
		out.PublishErr = n.lastErr.Error()
	}
	n.mu.Unlock()
	return writeJSON(w, http.StatusOK, out)
}

// resolveAccount resolves the account in the request's path.
func (d *Daemon) resolveAccount(ctx context.Context, r *http.Request) (namesys.Record, error) {
	s := r.PathValue("account")
	id, err := vault.ParseAccountID(s)
	if err != nil {
		return namesys.Record{}, badRequest(err)
	}
	resolve := d.names.ns.Resolve
	if r.URL.Query().Get("via") == "dht" {
		resolve = d.names.ns.ResolveDHT
	}
	rec, err := resolve(ctx, id, 10*time.Second)
	if err != nil {
		return namesys.Record{}, notFound(fmt.Errorf("%w (is a device of that account on this LAN?)", err))
	}
	return rec, nil
}

func (d *Daemon) handleResolve(w http.ResponseWriter, r *http.Request) error {
	rec, err := d.resolveAccount(r.Context(), r)
	if err != nil {
		return err
	}
	c, err := rootCID(rec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Resolved{Account: vault.AccountID(rec.Name), Root: c.String(), Seq: rec.Seq})
}

// handlePublicLs lists an account's public index. Publishing files there
// comes in a later version, so every index is empty for now; the account
// must resolve and its root must be readable.
func (d *Daemon) handlePublicLs(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rec, err := d.resolveAccount(ctx, r)
	if err != nil {
		return err
	}
	c, err := rootCID(rec)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := d.names.rootOf(ctx, c, 0); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, []api.Entry{})
}
