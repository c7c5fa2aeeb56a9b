package daemon

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	pin "github.com/ipfs/boxo/pinning/pinner"
	cid "github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/ipfsfile"
	"github.com/peer-cloud/peer/p2p"
)

func pathCID(r *http.Request) (cid.Cid, error) {
	s := r.PathValue("cid")
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, badRequest(fmt.Errorf("%q is not a CID: %w", s, err))
	}
	return c, nil
}

// statPath reads the UnixFS root named by the request's {cid}, fetching it
// from peers if needed.
func (d *Daemon) statPath(r *http.Request) (cid.Cid, ipfsfile.Info, ipld.Node, error) {
	c, err := pathCID(r)
	if err != nil {
		return cid.Undef, ipfsfile.Info{}, nil, err
	}
	info, nd, err := ipfsfile.Stat(r.Context(), d.node.DAG(), c)
	if err != nil {
		return cid.Undef, ipfsfile.Info{}, nil, err
	}
	return c, info, nd, nil
}

func (d *Daemon) handleAdd(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	doPin := r.URL.Query().Get("pin") != "false"
	// Hold the pin lock until the root is pinned, so a GC running meanwhile
	// cannot remove the new blocks.
	unlock := d.store.Blockstore().PinLock(ctx)
	defer unlock.Unlock(ctx)
	var nd ipld.Node
	var err error
	switch ct := r.Header.Get("Content-Type"); ct {
	case api.ContentTar:
		nd, err = ipfsfile.AddTar(ctx, d.store.DAG(), tar.NewReader(r.Body))
	case api.ContentFile, "":
		nd, err = ipfsfile.Add(ctx, d.store.DAG(), r.Body)
	default:
		return badRequest(fmt.Errorf("unsupported Content-Type %q: send %s or %s", ct, api.ContentFile, api.ContentTar))
	}
	if err != nil {
		return badRequest(err)
	}
	if doPin {
		if err := d.pin(ctx, nd.Cid()); err != nil {
			return err
		}
	}
	info, err := ipfsfile.Describe(nd)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Added{CID: nd.Cid().String(), Size: info.Size, Kind: string(info.Kind)})
}

func (d *Daemon) handleStat(w http.ResponseWriter, r *http.Request) error {
	c, info, _, err := d.statPath(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Stat{CID: c.String(), Kind: string(info.Kind), Size: info.Size})
}

func (d *Daemon) handleCat(w http.ResponseWriter, r *http.Request) error {
	c, info, nd, err := d.statPath(r)
	if err != nil {
		return err
	}
	if info.Kind != ipfsfile.KindFile {
		return badRequest(fmt.Errorf("%s is a %s, not a file: use 'peer ipfs get'", c, info.Kind))
	}
	return d.writeUnixFSFile(w, r, info, nd)
}

// writeUnixFSFile answers with the bytes of the UnixFS file nd, fetching
// what is not held. Errors after the first byte cannot change the status;
// the client sees a body shorter than Content-Length.
func (d *Daemon) writeUnixFSFile(w http.ResponseWriter, r *http.Request, info ipfsfile.Info, nd ipld.Node) error {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatUint(info.Size, 10))
	return ipfsfile.WriteFile(r.Context(), d.node, nd, w)
}

func (d *Daemon) handleGet(w http.ResponseWriter, r *http.Request) error {
	c, info, _, err := d.statPath(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", api.ContentTar)
	w.Header().Set("X-Content-Size", strconv.FormatUint(info.Size, 10))
	tw := tar.NewWriter(w)
	if err := ipfsfile.WriteTar(r.Context(), d.node, c, c.String(), tw); err != nil {
		return err
	}
	return tw.Close()
}

func (d *Daemon) handlePinAdd(w http.ResponseWriter, r *http.Request) error {
	c, err := pathCID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	unlock := d.store.Blockstore().PinLock(ctx)
	defer unlock.Unlock(ctx)
	var got api.Pinned
	err = d.node.FetchDAG(ctx, c, func(p p2p.Progress) { got.Blocks, got.Bytes = p.Blocks, p.Bytes })
	if err != nil {
		return err
	}
	if err := d.pin(ctx, c); err != nil {
		return err
	}
	got.CID = c.String()
	return writeJSON(w, http.StatusOK, got)
}

func (d *Daemon) handlePinRm(w http.ResponseWriter, r *http.Request) error {
	c, err := pathCID(r)
	if err != nil {
		return err
	}
	if err := d.store.Pinner().Unpin(r.Context(), c, true); err != nil {
		if errors.Is(err, pin.ErrNotPinned) {
			return notFound(fmt.Errorf("%s is not pinned", c))
		}
		return fmt.Errorf("failed to unpin %s: %w", c, err)
	}
	return writeJSON(w, http.StatusOK, api.Pin{CID: c.String(), Type: "recursive"})
}

func (d *Daemon) handlePinLs(w http.ResponseWriter, r *http.Request) error {
	pins, err := d.store.Pins(r.Context())
	if err != nil {
		return err
	}
	out := make([]api.Pin, len(pins))
	for i, p := range pins {
		out[i] = api.Pin{CID: p.Key.String(), Type: "direct"}
		if p.Recursive {
			out[i].Type = "recursive"
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// pin pins the DAG under c, whose blocks must all be local, and announces
// c on the DHT. The caller holds the pin lock. dspinner syncs the datastore
// (blocks included: Badger syncs as a whole) before PinWithMode returns, so
// no Flush is needed.
func (d *Daemon) pin(ctx context.Context, c cid.Cid) error {
	if err := d.store.Pinner().PinWithMode(ctx, c, pin.Recursive, ""); err != nil {
		return fmt.Errorf("failed to pin %s: %w", c, err)
	}
	if err := d.node.Provide(ctx, c); err != nil {
		d.log.Warn("failed to announce", "cid", c, "err", err)
	}
	return nil
}
