package daemon

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ipfs/boxo/blockservice"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/p2p"
	"github.com/peer-cloud/peer/share"
	peersync "github.com/peer-cloud/peer/sync"
	"github.com/peer-cloud/peer/vault"
)

// linked is what a link opens, at the request's path inside a folder.
type linked struct {
	link   share.Link
	target cid.Cid            // the file version or folder copy the link names
	name   string             // the shared file's or folder's name, when the link says it
	file   *vault.FileVersion // the file at path; nil for a folder
	tree   *vault.Tree        // the link's folder; nil for a link to a file
	path   string             // inside tree ("/": the folder itself)
	entry  vault.Entry        // what is at path in tree
}

// openLink opens what a link gives: a file version, or a folder and the
// file or folder at req.Path inside it.
func (d *Daemon) openLink(ctx context.Context, req api.LinkRequest) (*linked, error) {
	l, err := share.Parse(req.Link)
	if err != nil {
		return nil, badRequest(err)
	}
	if err := l.Unlock(req.Password); err != nil {
		return nil, &httpError{http.StatusForbidden, err}
	}
	ctx, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	out := &linked{link: l, target: l.Target}
	key := l.Key
	if l.Follows() {
		rec, err := d.names.Resolve(ctx, l.Account, 10*time.Second)
		if err != nil {
			return nil, notFound(fmt.Errorf("failed to find the link's account %s (is a device of it, or a donor, on this LAN?): %w", vault.AccountID(l.Account), err))
		}
		c, err := peersync.RootCID(rec)
		if err != nil {
			return nil, err
		}
		root, err := d.sync.Root(ctx, c)
		if err != nil {
			return nil, err
		}
		// The share nodes in one request, not one round trip each.
		prefetch(ctx, d.node.BlockService(), root.Shares[:min(len(root.Shares), share.MaxShares)])
		f, err := share.Followed(ctx, d.links.Blocks(), root, l.Key, time.Now())
		if err != nil {
			return nil, notFound(err)
		}
		out.target, key, out.name = f.CID, f.Key, f.Name
	}
	op, err := share.OpenTarget(ctx, d.links, out.target, key)
	if errors.Is(err, share.ErrWrongKey) {
		return nil, &httpError{http.StatusForbidden, err}
	}
	if err != nil {
		return nil, err
	}
	inside := req.Path != "" && req.Path != "/"
	if op.File != nil {
		if inside {
			return nil, badRequest(fmt.Errorf("the link opens a file, %s, not a folder: there is no %s in it", op.File.Name, req.Path))
		}
		out.file = op.File
		return out, nil
	}
	out.tree, out.path = op.Folder, "/"
	out.entry = vault.Entry{Name: out.name, Kind: vault.KindDir, CID: out.target, Mode: 0o755}
	if !inside {
		return out, nil
	}
	names, err := vault.SplitPath(req.Path)
	if err != nil {
		return nil, badRequest(err)
	}
	out.path = "/" + strings.Join(names, "/")
	if out.entry, err = out.tree.Stat(ctx, out.path); err != nil {
		return nil, vaultErr(err)
	}
	if out.entry.Kind == vault.KindFile {
		if out.file, err = d.links.OpenFileWithKey(ctx, out.entry.CID, out.entry.Key, out.path); err != nil {
			return nil, vaultErr(err)
		}
	}
	return out, nil
}

// linkOfRequest opens what the link a request's body names gives. The
// request's context carries one Bitswap session for all it reads: the
// session learns from the first block who holds the link's blocks and
// asks that peer for the rest at once (a fresh session first asks every
// peer whether it has each block, a round trip more, and Bitswap sends a
// peer one message per 20 ms at most).
func (d *Daemon) linkOfRequest(r *http.Request) (*linked, api.LinkRequest, *http.Request, error) {
	var req api.LinkRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, req, r, err
	}
	r = d.withSession(r)
	lk, err := d.openLink(r.Context(), req)
	return lk, req, r, err
}

// withSession gives r a context that carries one Bitswap session for all
// the request reads from other nodes (see linkOfRequest).
func (d *Daemon) withSession(r *http.Request) *http.Request {
	return r.WithContext(blockservice.ContextWithSession(r.Context(), d.node.BlockService()))
}

// prefetch asks for the blocks cs (those not held) in one Bitswap
// request, in the background until ctx ends, so that reading them one by
// one waits one round trip in all rather than one each.
func prefetch(ctx context.Context, bs blockservice.BlockService, cs []cid.Cid) {
	ch := bs.GetBlocks(ctx, cs)
	go func() {
		for range ch {
		}
	}()
}

// info is what a link opens, as 'peer ls LINK' shows it.
func (lk *linked) info() api.LinkInfo {
	out := api.LinkInfo{Follows: lk.link.Follows()}
	if lk.link.Follows() {
		out.Account = vault.AccountID(lk.link.Account)
	}
	switch {
	case lk.tree == nil:
		fv := lk.file
		out.Entry = api.Entry{Name: fv.Name, Path: "/" + fv.Name, Type: string(vault.KindFile), Size: fv.Size, Mtime: time.Unix(0, fv.Mtime).UTC(), Mode: fv.Mode, ID: fv.CID.String()}
	case lk.path == "/":
		out.Entry = api.Entry{Name: lk.name, Path: "/", Type: string(vault.KindDir), Mode: 0o755, ID: lk.target.String()}
	default:
		out.Entry = entryJSON(lk.path, lk.entry)
	}
	return out
}

func (d *Daemon) handleLinkStat(w http.ResponseWriter, r *http.Request) error {
	lk, _, r, err := d.linkOfRequest(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, lk.info())
}

// handleLinkLs lists the folder a link opens (at the request's path).
func (d *Daemon) handleLinkLs(w http.ResponseWriter, r *http.Request) error {
	lk, _, r, err := d.linkOfRequest(r)
	if err != nil {
		return err
	}
	if lk.file != nil {
		return writeJSON(w, http.StatusOK, []api.Entry{lk.info().Entry})
	}
	es, err := lk.tree.List(r.Context(), lk.path)
	if err != nil {
		return vaultErr(err)
	}
	out := make([]api.Entry, len(es))
	for i, e := range es {
		out[i] = entryJSON(path.Join(lk.path, e.Name), e)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (d *Daemon) handleLinkCat(w http.ResponseWriter, r *http.Request) error {
	lk, req, r, err := d.linkOfRequest(r)
	if err != nil {
		return err
	}
	if lk.file == nil {
		return badRequest(fmt.Errorf("the link opens a folder at %s: 'peer ls LINK [PATH]' lists it, 'peer get LINK [PATH]' saves it, 'peer cat LINK PATH' writes a file in it", lk.path))
	}
	return d.writeLinkedFile(w, r, lk.file, req)
}

// handleLinkGet writes the file a link opens, or a tar stream of its
// folder (at the request's path).
func (d *Daemon) handleLinkGet(w http.ResponseWriter, r *http.Request) error {
	lk, req, r, err := d.linkOfRequest(r)
	if err != nil {
		return err
	}
	if lk.file != nil {
		return d.writeLinkedFile(w, r, lk.file, req)
	}
	name := path.Base(lk.path)
	if lk.path == "/" {
		if name = lk.name; name == "" || name == "." || name == "/" {
			name = "shared-folder"
		}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// Fetch the folder's nodes and files a window at once while the tar
	// stream takes them in order.
	top := lk.target
	if lk.path != "/" {
		top = lk.entry.CID
	}
	go d.node.FetchDAGLimited(ctx, top, p2p.DAGLimits{Links: func(b blocks.Block) ([]cid.Cid, error) {
		return vault.LinksWithin(b.Cid(), b.RawData(), "dir", "file", "part")
	}})
	w.Header().Set("Content-Type", api.ContentTar)
	w.Header().Set("X-Peer-Name", name)
	tw := tar.NewWriter(w)
	if err := d.writeTree(ctx, d.links, lk.tree, lk.path, name, tw); err != nil {
		return err
	}
	return tw.Close()
}

// writeLinkedFile writes the range req asks of fv, a file a link opens.
func (d *Daemon) writeLinkedFile(w http.ResponseWriter, r *http.Request, fv *vault.FileVersion, req api.LinkRequest) error {
	if req.Offset < 0 || uint64(req.Offset) > fv.Size || req.Length < 0 {
		return badRequest(fmt.Errorf("range %d+%d is not within the file's %d bytes", req.Offset, req.Length, fv.Size))
	}
	size := int64(fv.Size) - req.Offset
	if req.Length > 0 && req.Length < size {
		size = req.Length
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("X-Peer-Name", fv.Name)
	// Fetch the whole version's blocks, a window at once, while the read
	// takes them in order: one block at a time, each a Bitswap round
	// trip, a 1 MiB file took twice as long.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go d.node.FetchDAGLimited(ctx, fv.CID, p2p.DAGLimits{Links: func(b blocks.Block) ([]cid.Cid, error) {
		return vault.LinksWithin(b.Cid(), b.RawData(), "file", "part")
	}})
	return d.links.ReadRange(ctx, fv, w, req.Offset, size)
}
