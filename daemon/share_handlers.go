package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/p2p"
	"github.com/peer-cloud/peer/share"
	"github.com/peer-cloud/peer/vault"
)

// linkTimeout bounds finding and opening what a link names (resolving
// its account, fetching the root, shares and the version node).
const linkTimeout = 30 * time.Second

// startShares opens the account's following shares and the vault that
// reads links over the network.
func (d *Daemon) startShares(ctx context.Context) error {
	d.bg, d.bgStop = context.WithCancel(context.WithoutCancel(ctx))
	d.fetchSlots = make(chan struct{}, 2)
	var err error
	if d.contacts, err = share.OpenContacts(ctx, d.store.Namespace("contacts")); err != nil {
		return err
	}
	st, err := share.Open(ctx, d.store.Namespace("shares"), share.WithLogger(d.log.With("part", "share")), share.WithPublished(d.keepPublished),
		share.WithVersionShared(d.keepFolderCopy), share.WithContacts(d.contacts))
	if err != nil {
		return err
	}
	d.shares = st
	d.store.AddRoots(st.PublicRoots)
	d.links = vault.New(d.acct.Keys(), share.NetBlocks{BS: d.node.BlockService()})
	d.expiry = time.AfterFunc(time.Hour, d.shareExpired)
	d.expiry.Stop()
	d.armExpiry()
	return nil
}

// keepPublished fetches, in the background, the DAG of a public entry
// another device of the account published, and writes the index folder
// here too (the same block, from the same entries), so that this device
// serves the account's public files while that one is away.
func (d *Daemon) keepPublished(p vault.Published) {
	d.inBackground(func(ctx context.Context) {
		if p.CID.Defined() {
			if err := d.node.FetchDAG(ctx, p.CID, nil); err != nil {
				d.log.Warn("failed to fetch a file the account published", "name", p.Name, "err", err)
				return
			}
		}
		if _, err := d.shares.PublicIndex(ctx, d.acct.Vault()); err != nil {
			d.log.Warn("failed to write the public index", "err", err)
			return
		}
		if p.CID.Defined() {
			d.log.Info("holds a file the account published", "name", p.Name, "dag", p.CID)
		}
	})
}

// keepFolderCopy fetches, in the background, the copy of a folder that
// another device of the account made for a version link (its folder
// nodes: the files in it are the account's own), so that this device
// serves the link while that one is away.
func (d *Daemon) keepFolderCopy(f vault.FollowShare) {
	d.inBackground(func(ctx context.Context) {
		err := d.node.FetchDAGLimited(ctx, f.Version, p2p.DAGLimits{Links: func(b blocks.Block) ([]cid.Cid, error) {
			if kind, _ := vault.BlockKind(b.Cid(), b.RawData()); kind != "dir" {
				return nil, nil // a file version, held with the account's DAG
			}
			return vault.LinksWithin(b.Cid(), b.RawData(), "dir")
		}})
		if err != nil {
			d.log.Warn("failed to fetch a folder the account shared", "path", f.Path, "err", err)
			return
		}
		d.log.Info("holds a folder the account shared", "path", f.Path, "copy", f.Version)
	})
}

// inBackground runs fn, two at a time, until the daemon stops (at most
// ten minutes each).
func (d *Daemon) inBackground(fn func(context.Context)) {
	d.bgWG.Add(1)
	go func() {
		defer d.bgWG.Done()
		select {
		case d.fetchSlots <- struct{}{}:
		case <-d.bg.Done():
			return
		}
		defer func() { <-d.fetchSlots }()
		ctx, cancel := context.WithTimeout(d.bg, 10*time.Minute)
		defer cancel()
		fn(ctx)
	}()
}

// armExpiry sets the timer that writes the account root again when the
// next following share expires, so that it stops giving new versions.
func (d *Daemon) armExpiry() {
	if next := d.shares.NextExpiry(); !next.IsZero() {
		d.expiry.Reset(time.Until(next) + 10*time.Millisecond)
	}
}

func (d *Daemon) shareExpired() {
	d.acct.SchedulePublish()
	d.armExpiry()
}

func decodeBody(r *http.Request, v any) error {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		return badRequest(fmt.Errorf("failed to read the request: %w", err))
	}
	return nil
}

func shareJSON(f vault.FollowShare) api.Share {
	out := api.Share{ID: share.ShareID(f.Secret), Path: f.Path, Follows: !f.Version.Defined(), Made: time.Unix(0, f.Made).UTC()}
	if f.Version.Defined() {
		out.Version = f.Version.String()
	}
	if f.Expires != 0 {
		t := time.Unix(0, f.Expires).UTC()
		out.Expires = &t
	}
	if f.Ended != 0 {
		t := time.Unix(0, f.Ended).UTC()
		out.Ended = &t
	}
	return out
}

// handleShare makes a link to a file of the vault.
func (d *Daemon) handleShare(w http.ResponseWriter, r *http.Request) error {
	var req api.ShareRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	p := req.Path
	if !strings.HasPrefix(p, "/") {
		return badRequest(fmt.Errorf("path %q is not absolute", p))
	}
	ctx := r.Context()
	t, err := d.acct.ReadTree()
	if err != nil {
		return err
	}
	e, err := t.Stat(ctx, p)
	if err != nil {
		return vaultErr(err)
	}
	if len(req.With) > 0 {
		if e.Kind != vault.KindFile {
			return badRequest(fmt.Errorf("%s is a folder: --with shares files in this version; share the files in it (peer share %s/NAME --with ...), or give a link to the folder (peer share %s)", p, strings.TrimRight(p, "/"), p))
		}
		if req.Follow || req.Password != "" || req.Expires != 0 {
			return badRequest(errors.New("--with shares the version there now with chosen accounts: --follow, --expires and --password are for links"))
		}
		out, err := d.shareWith(ctx, p, e, req.With)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, out)
	}
	if req.Expires < 0 || (req.Expires > 0 && !req.Follow) {
		return badRequest(errors.New("--expires needs --follow: a link to one version cannot be taken back, so it cannot expire"))
	}
	var l share.Link
	var out api.Share
	if req.Follow {
		f, err := d.shares.Add(ctx, nil, p, req.Expires)
		if err != nil {
			return err
		}
		l = share.Link{Account: d.acct.Keys().PeerID(), Key: f.Secret}
		out = shareJSON(f)
		d.armExpiry()
		d.acct.SchedulePublish()
	} else if e.Kind == vault.KindDir {
		// A link carries the key of a copy of the folder, never the
		// folder's own key: that would open every later version of it.
		secret, err := share.NewSecret(nil)
		if err != nil {
			return err
		}
		cp, err := d.acct.Vault().CopyFolder(ctx, secret, e.CID, e.Key, p, map[cid.Cid]vault.Entry{})
		if err != nil {
			return vaultErr(err)
		}
		f, err := d.shares.AddVersion(ctx, secret, p, cp)
		if err != nil {
			return err
		}
		l = share.Link{Target: cp.CID, Key: cp.Key}
		out = shareJSON(f)
		d.acct.SchedulePublish()
	} else {
		l = share.Link{Target: e.CID, Key: e.Key}
		out = api.Share{Path: p, Version: e.CID.String(), Made: time.Now().UTC()}
	}
	if req.Password != "" {
		if err := l.Lock(nil, req.Password); err != nil {
			return badRequest(err)
		}
		out.Locked = true
	}
	out.Link = l.String()
	return writeJSON(w, http.StatusOK, out)
}

// handleUnshare ends following shares: the one a link or ID names, or
// every one of a path.
func (d *Daemon) handleUnshare(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		What string `json:"what"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	what := strings.TrimSpace(req.What)
	var match func(vault.FollowShare) bool
	switch {
	case share.IsLink(what):
		l, err := share.Parse(what)
		if err != nil {
			return badRequest(err)
		}
		if !l.Follows() {
			// A link to a folder's version is a share this account lists
			// (the copy it opens); a link to a file's version is not.
			match = func(f vault.FollowShare) bool { return f.Version.Defined() && f.Version == l.Target }
			if !slices.ContainsFunc(d.shares.List(), match) {
				return badRequest(errors.New("this link names one version of a file (or another account's folder): it cannot be ended, and what it opens stays readable to whoever holds it"))
			}
			break
		}
		if l.Account != d.acct.Keys().PeerID() {
			return badRequest(errors.New("this link is another account's share: only its owner can end it"))
		}
		if l.Locked() {
			return badRequest(errors.New("this link is locked with a password: end it by its ID ('peer shares' lists them) or by its path"))
		}
		match = func(f vault.FollowShare) bool { return f.Secret == l.Key }
	case share.IsShareID(what):
		match = func(f vault.FollowShare) bool { return share.ShareID(f.Secret) == what }
	case strings.HasPrefix(what, "/"):
		match = func(f vault.FollowShare) bool { return f.Path == what }
	default:
		return badRequest(fmt.Errorf("%q is neither a link, a share ID nor an absolute path", what))
	}
	ended, err := d.shares.End(r.Context(), match)
	if err != nil {
		return err
	}
	if len(ended) == 0 {
		return notFound(fmt.Errorf("no standing following share matches %s ('peer shares' lists them)", what))
	}
	d.acct.SchedulePublish()
	out := make([]api.Share, len(ended))
	for i, f := range ended {
		out[i] = shareJSON(f)
	}
	return writeJSON(w, http.StatusOK, out)
}

// handleShares lists the account's following shares.
func (d *Daemon) handleShares(w http.ResponseWriter, r *http.Request) error {
	list := d.shares.List()
	out := make([]api.Share, len(list))
	for i, f := range list {
		out[i] = shareJSON(f)
	}
	return writeJSON(w, http.StatusOK, out)
}
