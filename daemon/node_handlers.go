package daemon

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/peer-cloud/peer/api"
)

func (d *Daemon) handleID(w http.ResponseWriter, r *http.Request) error {
	h := d.node.Host()
	out := api.ID{ID: h.ID().String(), Profile: string(d.store.Profile()), Addrs: []string{}, DonorOnly: d.repo.Config.Donor.Only}
	for _, a := range h.Addrs() {
		out.Addrs = append(out.Addrs, a.String()+"/p2p/"+h.ID().String())
	}
	return writeJSON(w, http.StatusOK, out)
}

func (d *Daemon) handlePeers(w http.ResponseWriter, r *http.Request) error {
	if ws := r.URL.Query().Get("wait"); ws != "" {
		n, err := strconv.Atoi(ws)
		if err != nil || n < 1 {
			return badRequest(fmt.Errorf("wait must be a positive number of peers, not %q", ws))
		}
		timeout, err := time.ParseDuration(r.URL.Query().Get("timeout"))
		if err != nil || timeout <= 0 {
			return badRequest(fmt.Errorf("timeout must be a duration such as 30s"))
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := d.node.WaitPeers(ctx, n); err != nil {
			return &httpError{http.StatusGatewayTimeout, err}
		}
	}
	return writeJSON(w, http.StatusOK, d.peerList())
}

// peerList lists the connected peers, one line per peer.
func (d *Daemon) peerList() []api.Peer {
	out := []api.Peer{}
	seen := map[string]bool{}
	for _, c := range d.node.Host().Network().Conns() {
		id := c.RemotePeer().String()
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, api.Peer{ID: id, Addr: c.RemoteMultiaddr().String(), Direction: c.Stat().Direction.String()})
	}
	return out
}

func (d *Daemon) handleRepoStat(w http.ResponseWriter, r *http.Request) error {
	st, err := d.store.Stat(r.Context())
	if err != nil {
		return err
	}
	logical, err := d.logicalBytes(r.Context())
	if err != nil {
		return err
	}
	rs := d.node.RecordStat()
	return writeJSON(w, http.StatusOK, api.RepoStat{
		Blocks: st.Blocks, BlockBytes: st.BlockBytes, DiskBytes: st.DiskBytes, Pins: st.Pins, Profile: string(st.Profile),
		StoredBytes: st.BlockBytes, LogicalBytes: logical,
		DHTRecords: rs.Records, DHTRecordBytes: rs.Bytes, DHTMaxRecords: rs.MaxRecords, DHTMaxBytes: rs.MaxBytes, DHTRefused: rs.Refused,
	})
}

func (d *Daemon) handleRepoGC(w http.ResponseWriter, r *http.Request) error {
	// Expired DHT records go too (the node also sweeps them on its own).
	if _, err := d.node.SweepRecords(r.Context()); err != nil {
		return err
	}
	res, err := d.store.GC(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.GCResult{Removed: res.Removed, FreedBytes: res.FreedBytes, Kept: res.Kept})
}

func (d *Daemon) handleBitswapStat(w http.ResponseWriter, r *http.Request) error {
	st, err := d.node.BitswapStat()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.BitswapStat{
		BlocksReceived: st.BlocksReceived, DataReceived: st.DataReceived, DupBlocks: st.DupBlksReceived,
		BlocksSent: st.BlocksSent, DataSent: st.DataSent, Wantlist: len(st.Wantlist), Peers: len(st.Peers),
	})
}
