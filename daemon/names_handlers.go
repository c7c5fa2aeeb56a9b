package daemon

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/namesys"
	peersync "github.com/peer-cloud/peer/sync"
	"github.com/peer-cloud/peer/vault"
)

func (d *Daemon) handleStatus(w http.ResponseWriter, r *http.Request) error {
	out := api.Status{Account: d.acct.Keys().ID(), Device: d.repo.PeerID().String(), Peers: d.peerList()}
	if h := d.acct.Head(); h != nil {
		out.Head, out.Seq = h.CID.String(), h.Seq
	}
	st := d.sync.Status()
	out.Devices = st.Devices
	if p := st.Last; p != nil {
		dht := "ok"
		if seq, err, ok := d.names.DHTResult(p.Name); ok && seq == p.Seq && err != nil {
			dht = err.Error()
		} else if !ok || seq != p.Seq {
			dht = "not sent" // a later record of another device's went out since
		}
		out.LastPublish = &api.Publish{Time: p.At.UTC(), Root: st.LastRoot.String(), Seq: p.Seq, PubsubPeers: p.PubsubPeers, DHTPeers: st.LastDHTPeers, DHT: dht}
	}
	if st.LastErr != nil {
		out.PublishErr = st.LastErr.Error()
	}
	out.KeyEpoch = d.acct.Keys().Epoch().N
	if err := d.sync.KeysMissing(); err != nil {
		out.KeysErr = err.Error()
	}
	out.LAN, out.TLSFingerprint = d.tlsStatus()
	return writeJSON(w, http.StatusOK, out)
}

// resolveAccount resolves the account in the request's path.
func (d *Daemon) resolveAccount(ctx context.Context, r *http.Request) (namesys.Record, error) {
	s := r.PathValue("account")
	id, err := vault.ParseAccountID(s)
	if err != nil {
		return namesys.Record{}, badRequest(err)
	}
	resolve := d.names.Resolve
	if r.URL.Query().Get("via") == "dht" {
		resolve = d.names.ResolveDHT
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
	c, err := peersync.RootCID(rec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Resolved{Account: vault.AccountID(rec.Name), Root: c.String(), Seq: rec.Seq})
}
