package daemon

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

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

// publicEntry finds the name p ("/NAME") in a public index: the DAG it
// names and its cumulative size.
func (d *Daemon) publicEntry(ctx context.Context, index cid.Cid, p string) (cid.Cid, uint64, error) {
	name := strings.Trim(p, "/")
	if name == "" || strings.Contains(name, "/") {
		return cid.Undef, 0, badRequest(fmt.Errorf("%q is not a name of the public index (it holds /NAME)", p))
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

// publicAt finds the path p ("/NAME" or "/NAME/a/b", inside a published
// folder) in a public index.
func (d *Daemon) publicAt(ctx context.Context, index cid.Cid, p string) (ipfsfile.Info, ipld.Node, error) {
	names := strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
	if len(names) == 0 {
		return ipfsfile.Info{}, nil, badRequest(fmt.Errorf("%q names nothing in the public index: give /NAME[/PATH]", p))
	}
	c, _, err := d.publicEntry(ctx, index, "/"+names[0])
	if err != nil {
		return ipfsfile.Info{}, nil, err
	}
	nd, err := ipfsfile.Resolve(ctx, d.node.DAG(), c, names[1:])
	if errors.Is(err, ipfsfile.ErrNoEntry) {
		return ipfsfile.Info{}, nil, notFound(fmt.Errorf("%s: %w", names[0], err))
	}
	if err != nil {
		return ipfsfile.Info{}, nil, err
	}
	info, err := ipfsfile.Describe(nd)
	return info, nd, err
}

func publicJSON(p, name string, c cid.Cid, kind ipfsfile.Kind, size uint64) api.Entry {
	e := api.Entry{Name: name, Path: p, Type: string(vault.KindFile), Size: size, ID: c.String()}
	if kind == ipfsfile.KindDir {
		e.Type, e.Size = string(vault.KindDir), 0
	}
	return e
}

// handlePublicLs lists an account's public index, or a folder in it: each
// name with the file's size.
func (d *Daemon) handlePublicLs(w http.ResponseWriter, r *http.Request) error {
	r = d.withSession(r)
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
	p := "/" + strings.Trim(r.URL.Query().Get("path"), "/")
	var nd ipld.Node
	if p == "/" {
		if nd, err = d.node.DAG().Get(ctx, index); err != nil {
			return fmt.Errorf("failed to read the public index: %w", err)
		}
	} else {
		info, n, err := d.publicAt(ctx, index, p)
		if err != nil {
			return err
		}
		if info.Kind != ipfsfile.KindDir {
			return writeJSON(w, http.StatusOK, []api.Entry{publicJSON(p, path.Base(p), n.Cid(), info.Kind, info.Size)})
		}
		nd = n
	}
	es, err := ipfsfile.List(ctx, d.node.DAG(), nd)
	if err != nil {
		return err
	}
	for _, e := range es {
		out = append(out, publicJSON(path.Join(p, e.Name), e.Name, e.CID, e.Kind, e.Size))
	}
	return writeJSON(w, http.StatusOK, out)
}

// handlePublicCat writes a file of an account's public index.
func (d *Daemon) handlePublicCat(w http.ResponseWriter, r *http.Request) error {
	r, info, nd, err := d.publicRequested(r)
	if err != nil {
		return err
	}
	if info.Kind != ipfsfile.KindFile {
		return badRequest(fmt.Errorf("%s is a %s, not a file: 'peer ls ACCOUNT:/PATH' lists it, 'peer get' saves it", r.URL.Query().Get("path"), info.Kind))
	}
	return d.writeUnixFSFile(w, r, info, nd)
}

// publicRequested finds what the request's account and path name in that
// account's public index (bounded by linkTimeout), and gives the request
// its Bitswap session for reading it.
func (d *Daemon) publicRequested(r *http.Request) (*http.Request, ipfsfile.Info, ipld.Node, error) {
	r = d.withSession(r)
	ctx, cancel := context.WithTimeout(r.Context(), linkTimeout)
	defer cancel()
	index, err := d.publicIndex(ctx, r)
	if err != nil {
		return r, ipfsfile.Info{}, nil, err
	}
	info, nd, err := d.publicAt(ctx, index, r.URL.Query().Get("path"))
	return r, info, nd, err
}

// handlePublicGet writes a file of an account's public index, or a tar
// stream of a folder in it.
func (d *Daemon) handlePublicGet(w http.ResponseWriter, r *http.Request) error {
	r, info, nd, err := d.publicRequested(r)
	if err != nil {
		return err
	}
	p := r.URL.Query().Get("path")
	if info.Kind == ipfsfile.KindFile {
		return d.writeUnixFSFile(w, r, info, nd)
	}
	w.Header().Set("Content-Type", api.ContentTar)
	tw := tar.NewWriter(w)
	if err := ipfsfile.WriteTar(r.Context(), d.node, nd.Cid(), path.Base("/"+strings.Trim(p, "/")), tw); err != nil {
		return err
	}
	return tw.Close()
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
	name, err := publicName(req.As, path.Base(req.Path))
	if err != nil {
		return vault.Published{}, err
	}
	var nd ipld.Node
	var size uint64
	if e.Kind == vault.KindDir {
		// The folder goes through the same tar stream 'peer get' writes,
		// into plain UnixFS folders.
		pr, pw := io.Pipe()
		go func() {
			tw := tar.NewWriter(pw)
			err := d.writeTree(ctx, d.acct.Vault(), t, req.Path, name, tw)
			if err == nil {
				err = tw.Close()
			}
			pw.CloseWithError(err)
		}()
		nd, err = ipfsfile.AddTar(ctx, d.store.DAG(), tar.NewReader(pr))
		pr.Close()
		if err != nil {
			return vault.Published{}, fmt.Errorf("failed to copy %s into the public index: %w", req.Path, err)
		}
	} else {
		fv, err := d.acct.Vault().OpenFileWithKey(ctx, e.CID, e.Key, req.Path)
		if err != nil {
			return vault.Published{}, vaultErr(err)
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(d.acct.Vault().ReadRange(ctx, fv, pw, 0, -1)) }()
		nd, err = ipfsfile.Add(ctx, d.store.DAG(), pr)
		pr.Close()
		if err != nil {
			return vault.Published{}, fmt.Errorf("failed to copy %s into the public index: %w", req.Path, err)
		}
		size = fv.Size
	}
	tsize, err := nd.Size()
	if err != nil {
		return vault.Published{}, err
	}
	if e.Kind == vault.KindDir {
		size = tsize
	}
	return vault.Published{Name: name, CID: nd.Cid(), Tsize: tsize, Size: size}, nil
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
	info, nd, err := d.publicAt(rctx, root.Public, req.Path)
	if err != nil {
		return vault.Published{}, err
	}
	name, err := publicName(req.As, path.Base("/"+strings.Trim(req.Path, "/")))
	if err != nil {
		return vault.Published{}, err
	}
	c := nd.Cid()
	if err := d.node.FetchDAG(ctx, c, nil); err != nil {
		return vault.Published{}, fmt.Errorf("failed to fetch %s to keep it: %w", c, err)
	}
	tsize, err := nd.Size()
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
