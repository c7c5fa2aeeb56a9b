package daemon

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/remotepin"
	"github.com/peer-cloud/peer/replica"
)

// replicaHolder tells the replica server what this node holds: its own
// account's DAG (a device) and the accounts its donor mirrors.
type replicaHolder struct{ d *Daemon }

func (h replicaHolder) Held(account peer.ID) (replica.Held, bool) {
	d := h.d
	if d.acct != nil && account == d.acct.Keys().PeerID() {
		head := d.acct.Head()
		if head == nil {
			return replica.Held{}, false
		}
		out := replica.Held{Role: replica.RoleDevice, Head: head.CID}
		if d.sync != nil {
			st := d.sync.Status()
			out.Root = st.LastRoot
			if st.Last != nil {
				out.Seq = st.Last.Seq
			}
		}
		return out, true
	}
	if d.donor != nil {
		if root, head, seq, ok := d.donor.Held(account); ok {
			return replica.Held{Role: replica.RoleDonor, Root: root, Head: head, Seq: seq}, true
		}
	}
	return replica.Held{}, false
}

func (h replicaHolder) LocalBlock(ctx context.Context, c cid.Cid) ([]byte, error) {
	b, err := h.d.store.Blockstore().Get(ctx, c)
	if err != nil {
		return nil, err
	}
	return b.RawData(), nil
}

// startReplicas answers other nodes' replica requests.
func (d *Daemon) startReplicas() {
	d.replicas = replica.Serve(d.node.Host(), replicaHolder{d}, d.log.With("part", "replica"))
}

// providersTimeout bounds the DHT's search for other holders.
const providersTimeout = 3 * time.Second

// handleReplicas asks the connected peers what they hold of the account
// (or of the version at a path) and to prove it, and the DHT who provides
// it.
func (d *Daemon) handleReplicas(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	head := d.acct.Head()
	if head == nil {
		return notFound(fmt.Errorf("the vault holds nothing yet: add a file first"))
	}
	out := api.Replicas{Account: d.acct.Keys().ID(), Head: head.CID.String(), Holders: []api.Replica{}}
	local := replicaHolder{d}.LocalBlock
	var probes []cid.Cid
	top := head.Tree
	if p := r.URL.Query().Get("path"); p != "" && p != "/" {
		t, err := d.acct.ReadTree()
		if err != nil {
			return err
		}
		e, err := t.Stat(ctx, p)
		if err != nil {
			return vaultErr(err)
		}
		out.Path, out.Version, top = p, e.CID.String(), e.CID
	} else {
		if root := d.sync.Status().LastRoot; root.Defined() {
			probes = append(probes, root)
		}
		probes = append(probes, head.CID)
	}
	probes = append(probes, replica.Probes(ctx, local, top, replica.MaxProbes-len(probes), rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))...)
	out.Probes = len(probes)
	peers := d.node.Host().Network().Peers()
	answers := replica.Ask(ctx, d.node.Host(), peers, d.acct.Keys().PeerID(), probes, func(c cid.Cid) ([]byte, error) { return local(ctx, c) })
	seen := map[peer.ID]bool{}
	for _, a := range answers {
		seen[a.Holder] = true
		if a.Err == nil && a.Role == "" && a.Claimed == 0 {
			continue // it holds nothing of the account
		}
		h := api.Replica{Peer: a.Holder.String(), Role: a.Role, Proved: a.Proved, Claimed: a.Claimed, Seq: a.Seq}
		if a.Err != nil {
			h.Error = a.Err.Error()
		} else {
			h.Time = time.Unix(0, a.Time).UTC()
			if a.Head.Defined() {
				h.Head = a.Head.String()
			}
			h.Current = a.Head == head.CID
		}
		out.Holders = append(out.Holders, h)
	}
	// Holders that are not connected, or speak no replica protocol (a
	// stock IPFS node that pinned the DAG), from the DHT's providers.
	pctx, cancel := context.WithTimeout(ctx, providersTimeout)
	defer cancel()
	for ai := range d.node.DHT().FindProvidersAsync(pctx, top, 20) {
		if ai.ID == d.node.Host().ID() || seen[ai.ID] {
			continue
		}
		seen[ai.ID] = true
		out.Holders = append(out.Holders, api.Replica{Peer: ai.ID.String(), Role: "provider"})
	}
	slices.SortFunc(out.Holders, func(a, b api.Replica) int {
		if a.Role != b.Role {
			return rank(a.Role) - rank(b.Role)
		}
		if a.Peer < b.Peer {
			return -1
		}
		return 1
	})
	return writeJSON(w, http.StatusOK, out)
}

func rank(role string) int {
	switch role {
	case replica.RoleDevice:
		return 0
	case replica.RoleDonor:
		return 1
	case "provider":
		return 3
	}
	return 2
}

// startRemotePins keeps the account's newest root pinned at the Pinning
// Service API endpoints the owner named ('peer replicas add-service').
func (d *Daemon) startRemotePins(ctx context.Context) error {
	var err error
	d.remotePins, err = remotepin.Start(ctx, remotepin.Config{
		Datastore: d.store.Namespace("remotepin"),
		Root:      func() cid.Cid { return d.sync.Status().LastRoot },
		Name:      "peer account " + d.acct.Keys().ID(),
		Origins:   d.addrsWithID,
		Log:       d.log.With("part", "remotepin"),
	})
	return err
}

// addrsWithID are the node's multiaddrs with its /p2p/ID.
func (d *Daemon) addrsWithID() []string {
	h := d.node.Host()
	var out []string
	for _, a := range h.Addrs() {
		out = append(out, a.String()+"/p2p/"+h.ID().String())
	}
	return out
}

func (d *Daemon) handleRemotePinAdd(w http.ResponseWriter, r *http.Request) error {
	var req struct{ Name, URL, Token string }
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if err := d.remotePins.Add(r.Context(), req.Name, req.URL, req.Token); err != nil {
		return badRequest(err)
	}
	return d.handleRemotePinList(w, r)
}

func (d *Daemon) handleRemotePinRm(w http.ResponseWriter, r *http.Request) error {
	var req struct{ Name string }
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if err := d.remotePins.Remove(r.Context(), req.Name); err != nil {
		return notFound(err)
	}
	return d.handleRemotePinList(w, r)
}

func (d *Daemon) handleRemotePinList(w http.ResponseWriter, r *http.Request) error {
	out := []api.RemotePin{}
	for _, s := range d.remotePins.List() {
		out = append(out, api.RemotePin{Name: s.Name, URL: s.URL, RequestID: s.RequestID, Root: s.Root, Status: s.Status, Checked: s.Checked, Error: s.Err})
	}
	return writeJSON(w, http.StatusOK, out)
}
