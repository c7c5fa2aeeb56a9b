package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/ipfsfile"
	"github.com/peer-cloud/peer/share"
	peersync "github.com/peer-cloud/peer/sync"
	"github.com/peer-cloud/peer/vault"
)

// publicIndex finds the public index of the account in the request's
// path: its folder node's CID (undefined: nothing published).
func (d *Daemon) publicIndex(ctx context.Context, r *http.Request) (cid.Cid, error) {
	rec, err := d.resolveAccount(ctx, r)
	if err != nil {
		return cid.Undef, err
	}
	c, err := peersync.RootCID(rec)
	if err != nil {
		return cid.Undef, err
	}
	root, err := d.sync.Root(ctx, c)
	if err != nil {
		return cid.Undef, err
	}
	return root.Public, nil
}

// publicEntry finds the name p ("/NAME") in a public index.
func (d *Daemon) publicEntry(ctx context.Context, index cid.Cid, p string) (cid.Cid, uint64, error) {
	name := strings.Trim(p, "/")
	if name == "" || strings.Contains(name, "/") {
		return cid.Undef, 0, badRequest(fmt.Errorf("%q is not a name of the public index (it holds files, /NAME)", p))
	}
	if !index.Defined() {
		return cid.Undef, 0, notFound(fmt.Errorf("the account publishes nothing"))
	}
	nd, err := d.node.DAG().Get(ctx, index)
	if err != nil {
		return cid.Undef, 0, fmt.Errorf("failed to read the public index: %w", err)
	}
	for _, l := range nd.Links() {
		if l.Name == name {
			return l.Cid, l.Size, nil
		}
	}
	return cid.Undef, 0, notFound(fmt.Errorf("%s is not in the account's public index", name))
}

// handlePublicLs lists an account's public index: each name with the
// file's size.
func (d *Daemon) handlePublicLs(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
	defer cancel()
	index, err := d.publicIndex(ctx, r)
	if err != nil {
		return err
	}
	out := []api.Entry{}
	if !index.Defined() {
		return writeJSON(w, http.StatusOK, out)
	}
	if p := strings.Trim(r.URL.Query().Get("path"), "/"); p != "" {
		c, _, err := d.publicEntry(ctx, index, "/"+p)
		if err != nil {
			return err
		}
		info, _, err := ipfsfile.Stat(ctx, d.node.DAG(), c)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, []api.Entry{{Name: p, Path: "/" + p, Type: string(vault.KindFile), Size: info.Size, ID: c.String()}})
	}
	nd, err := d.node.DAG().Get(ctx, index)
	if err != nil {
		return fmt.Errorf("failed to read the public index: %w", err)
	}
	for _, l := range nd.Links() {
		e := api.Entry{Name: l.Name, Path: "/" + l.Name, Type: string(vault.KindFile), ID: l.Cid.String()}
		if info, _, err := ipfsfile.Stat(ctx, d.node.DAG(), l.Cid); err == nil {
			e.Size = info.Size
		}
		out = append(out, e)
	}
	return writeJSON(w, http.StatusOK, out)
}

// handlePublicCat writes a file of an account's public index.
func (d *Daemon) handlePublicCat(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), linkTimeout)
	index, err := d.publicIndex(ctx, r)
	if err != nil {
		cancel()
		return err
	}
	c, _, err := d.publicEntry(ctx, index, r.URL.Query().Get("path"))
	if err != nil {
		cancel()
		return err
	}
	info, nd, err := ipfsfile.Stat(ctx, d.node.DAG(), c)
	cancel()
	if err != nil {
		return err
	}
	if info.Kind != ipfsfile.KindFile {
		return badRequest(fmt.Errorf("%s is a %s, not a file", c, info.Kind))
	}
	return d.writeUnixFSFile(w, r, info, nd)
}

// handlePublish puts a vault file, unencrypted, or another account's
// published file (a re-share: its DAG fetched and kept here), into this
// account's public index.
func (d *Daemon) handlePublish(w http.ResponseWriter, r *http.Request) error {
	var req api.PublishRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	var p vault.Published
	var err error
	if req.Account != "" {
		p, err = d.reshare(ctx, req)
	} else {
		p, err = d.publishFile(ctx, req)
	}
	if err != nil {
		return err
	}
	if p, err = d.shares.Publish(ctx, p); err != nil {
		return err
	}
	d.acct.SchedulePublish()
	return writeJSON(w, http.StatusOK, api.PublicEntry{Name: p.Name, ID: p.CID.String(), Size: p.Size, Time: time.Unix(0, p.Time).UTC(),
		Path: "/ipns/" + d.acct.Keys().ID() + "/public/" + p.Name})
}

func publicName(as, fallback string) (string, error) {
	name := as
	if name == "" {
		name = fallback
	}
	if name == "" || name == "." || name == ".." || len(name) > 255 || strings.ContainsAny(name, "/\x00") {
		return "", badRequest(fmt.Errorf("%q cannot be a name of the public index: 1 to 255 bytes, no / (choose one with --as)", name))
	}
	return name, nil
}

// publishFile copies the vault file at req.Path, decrypted, into plain
// UnixFS blocks.
func (d *Daemon) publishFile(ctx context.Context, req api.PublishRequest) (vault.Published, error) {
	t, err := d.acct.ReadTree()
	if err != nil {
		return vault.Published{}, err
	}
	e, err := t.Stat(ctx, req.Path)
	if err != nil {
		return vault.Published{}, vaultErr(err)
	}
	if e.Kind != vault.KindFile {
		return vault.Published{}, badRequest(fmt.Errorf("%s is a folder: this version publishes files", req.Path))
	}
	name, err := publicName(req.As, path.Base(req.Path))
	if err != nil {
		return vault.Published{}, err
	}
	fv, err := d.acct.Vault().OpenFileWithKey(ctx, e.CID, e.Key, req.Path)
	if err != nil {
		return vault.Published{}, vaultErr(err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(d.acct.Vault().ReadRange(ctx, fv, pw, 0, -1)) }()
	nd, err := ipfsfile.Add(ctx, d.store.DAG(), pr)
	pr.Close()
	if err != nil {
		return vault.Published{}, fmt.Errorf("failed to copy %s into the public index: %w", req.Path, err)
	}
	tsize, err := nd.Size()
	if err != nil {
		return vault.Published{}, err
	}
	return vault.Published{Name: name, CID: nd.Cid(), Tsize: tsize, Size: fv.Size}, nil
}

// reshare fetches another account's published file and keeps it.
func (d *Daemon) reshare(ctx context.Context, req api.PublishRequest) (vault.Published, error) {
	if req.Account == d.acct.Keys().ID() {
		return vault.Published{}, badRequest(errors.New("that is this account's own public index"))
	}
	id, err := vault.ParseAccountID(req.Account)
	if err != nil {
		return vault.Published{}, badRequest(err)
	}
	rctx, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	rec, err := d.names.Resolve(rctx, id, 10*time.Second)
	if err != nil {
		return vault.Published{}, notFound(fmt.Errorf("failed to find account %s: %w", req.Account, err))
	}
	rc, err := peersync.RootCID(rec)
	if err != nil {
		return vault.Published{}, err
	}
	root, err := d.sync.Root(rctx, rc)
	if err != nil {
		return vault.Published{}, err
	}
	c, tsize, err := d.publicEntry(rctx, root.Public, req.Path)
	if err != nil {
		return vault.Published{}, err
	}
	name, err := publicName(req.As, strings.Trim(req.Path, "/"))
	if err != nil {
		return vault.Published{}, err
	}
	if err := d.node.FetchDAG(ctx, c, nil); err != nil {
		return vault.Published{}, fmt.Errorf("failed to fetch %s to keep it: %w", c, err)
	}
	info, _, err := ipfsfile.Stat(ctx, d.store.DAG(), c)
	if err != nil {
		return vault.Published{}, err
	}
	return vault.Published{Name: name, CID: c, Tsize: tsize, Size: info.Size}, nil
}

func (d *Daemon) handleUnpublish(w http.ResponseWriter, r *http.Request) error {
	var req struct{ Name string }
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if err := d.shares.Unpublish(r.Context(), req.Name); err != nil {
		if errors.Is(err, share.ErrNotPublished) {
			return notFound(err)
		}
		return err
	}
	d.acct.SchedulePublish()
	return writeJSON(w, http.StatusOK, map[string]string{"name": req.Name})
}
