package daemon

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"sync"
	"time"

	cid "github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/vault"
)

// vaultErr gives vault errors their HTTP status.
func vaultErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, vault.ErrNotExist):
		return notFound(err)
	case errors.Is(err, vault.ErrExist):
		return &httpError{http.StatusConflict, err}
	}
	var he *httpError
	if errors.As(err, &he) {
		return err
	}
	var me *vault.MissingError
	var de *vault.DamagedError
	if errors.As(err, &me) || errors.As(err, &de) {
		return err
	}
	return badRequest(err)
}

// openVersion opens the file version the request's "version" names (a
// version ID from 'peer history' of p), explaining an ID that is not one.
func (d *Daemon) openVersion(ctx context.Context, r *http.Request, p string) (*vault.FileVersion, error) {
	s := r.URL.Query().Get("version")
	c, err := cid.Decode(s)
	if err != nil {
		return nil, badRequest(fmt.Errorf("version %q is not a version ID (see 'peer history %s'): %w", s, p, err))
	}
	fv, err := d.acct.Vault().OpenFile(ctx, c, p)
	var de *vault.DamagedError
	if errors.As(err, &de) {
		return nil, badRequest(fmt.Errorf("%s is not a version this account wrote (%v); pick an ID from 'peer history %s'", s, de.Err, p))
	}
	return fv, vaultErr(err)
}

// queryPath reads a vault path parameter ("/" when empty).
func queryPath(r *http.Request, name string) (string, error) {
	p := r.URL.Query().Get(name)
	if p == "" {
		p = "/"
	}
	if _, err := vault.SplitPath(p); err != nil {
		return "", badRequest(err)
	}
	return p, nil
}

func (d *Daemon) handleAccount(w http.ResponseWriter, r *http.Request) error {
	out := api.Account{Account: d.acct.Keys().ID(), Device: d.repo.PeerID().String()}
	if h := d.acct.Head(); h != nil {
		out.Head, out.Seq, out.Time = h.CID.String(), h.Seq, time.Unix(0, h.Time).UTC()
	}
	return writeJSON(w, http.StatusOK, out)
}

// handleVaultAdd adds local paths (JSON body) or a tar upload under the
// folder "to", answering with progress lines and the result as NDJSON.
func (d *Daemon) handleVaultAdd(w http.ResponseWriter, r *http.Request) error {
	to, err := queryPath(r, "to")
	if err != nil {
		return err
	}
	var req api.AddRequest
	ct := r.Header.Get("Content-Type")
	switch ct {
	case "application/json":
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			return badRequest(fmt.Errorf("failed to read the request: %w", err))
		}
		if len(req.Paths) == 0 {
			return badRequest(errors.New("nothing to add: give one or more paths"))
		}
	case api.ContentTar:
	default:
		return badRequest(fmt.Errorf("unsupported Content-Type %q: send application/json with local paths, or %s", ct, api.ContentTar))
	}
	ctx := r.Context()
	// The accounts to share with are found before anything is added: a
	// mistyped name changes nothing.
	var rs recipients
	if len(req.ShareWith) > 0 {
		if rs, err = d.recipientsOf(ctx, req.ShareWith); err != nil {
			return err
		}
	}
	began := time.Now()
	// Progress lines go out while the tar body is still read: without
	// full duplex, Go's HTTP/1 server drops what is left of the body at
	// the first write (up to 256 KiB), and the upload fails.
	http.NewResponseController(w).EnableFullDuplex()
	w.Header().Set("Content-Type", api.ContentNDJSON)
	w.WriteHeader(http.StatusOK)
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	send := func(p api.AddProgress) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(p)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	var ad *adder
	stop := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				mu.Lock()
				a := ad
				mu.Unlock()
				if a != nil {
					send(api.AddProgress{Bytes: a.bytes.Load()})
				}
			case <-stop:
				return
			}
		}
	}()
	s, err := d.acct.Change(ctx, true, func(ctx context.Context, t *vault.Tree) error {
		mu.Lock()
		ad = newAdder(d.acct, t, to)
		mu.Unlock()
		var err error
		if req.Paths != nil {
			err = ad.local(ctx, req.Paths)
		} else {
			err = ad.tar(ctx, tar.NewReader(r.Body))
		}
		// What was added is kept even after an error: store it first. If
		// that fails, nothing of this add may be committed.
		if ferr := ad.batch.Flush(ctx); ferr != nil {
			return account.Drop(errors.Join(err, ferr))
		}
		return err
	})
	close(stop)
	<-ticked
	res := ad.res
	d.log.Info("added", "files", res.Files, "bytes", res.Bytes, "took", time.Since(began))
	if s != nil && len(res.Added)+res.Dirs > 0 {
		res.Snapshot = s.CID.String()
	}
	if err == nil && len(rs.ids) > 0 {
		err = d.shareAdded(ctx, res.Added, rs)
		if err == nil {
			res.SharedWith = rs.ids
		}
	}
	if err != nil {
		send(api.AddProgress{Result: &res, Error: err.Error()})
		return nil
	}
	send(api.AddProgress{Result: &res})
	return nil
}

// shareAdded seals each file an add wrote for rs.
func (d *Daemon) shareAdded(ctx context.Context, added []api.Entry, rs recipients) error {
	t, err := d.acct.ReadTree()
	if err != nil {
		return err
	}
	for _, a := range added {
		if a.Type != string(vault.KindFile) {
			continue
		}
		e, err := t.Stat(ctx, a.Path)
		if err == nil {
			_, err = d.sealFor(ctx, a.Path, e, rs)
		}
		if err != nil {
			return fmt.Errorf("added, but failed to share %s: %w", a.Path, err)
		}
	}
	return nil
}

func (d *Daemon) handleVaultLs(w http.ResponseWriter, r *http.Request) error {
	p, err := queryPath(r, "path")
	if err != nil {
		return err
	}
	t, err := d.acct.ReadTree()
	if err != nil {
		return err
	}
	ctx := r.Context()
	e, err := t.Stat(ctx, p)
	if err != nil {
		return vaultErr(err)
	}
	if e.Kind == vault.KindFile {
		return writeJSON(w, http.StatusOK, []api.Entry{entryJSON(p, e)})
	}
	es, err := t.List(ctx, p)
	if err != nil {
		return vaultErr(err)
	}
	out := make([]api.Entry, len(es))
	for i, e := range es {
		out[i] = entryJSON(path.Join(p, e.Name), e)
	}
	return writeJSON(w, http.StatusOK, out)
}

// fileAt opens the file version the request names: "version" (a version
// CID this account wrote) or the newest version at "path".
func (d *Daemon) fileAt(ctx context.Context, r *http.Request) (*vault.FileVersion, error) {
	p, err := queryPath(r, "path")
	if err != nil {
		return nil, err
	}
	if r.URL.Query().Get("version") != "" {
		return d.openVersion(ctx, r, p)
	}
	t, err := d.acct.ReadTree()
	if err != nil {
		return nil, err
	}
	e, err := t.Stat(ctx, p)
	if err != nil {
		return nil, vaultErr(err)
	}
	if e.Kind != vault.KindFile {
		return nil, badRequest(fmt.Errorf("%s is a folder: use 'peer get' or 'peer ls'", p))
	}
	fv, err := d.acct.Vault().OpenFileWithKey(ctx, e.CID, e.Key, p)
	return fv, vaultErr(err)
}

// handleVaultCat writes a file's bytes; offset and length pick a range.
func (d *Daemon) handleVaultCat(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	fv, err := d.fileAt(ctx, r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	off, n := int64(0), int64(-1)
	if s := q.Get("offset"); s != "" {
		if off, err = strconv.ParseInt(s, 10, 64); err != nil || off < 0 || uint64(off) > fv.Size {
			return badRequest(fmt.Errorf("offset %q is not within the file's %d bytes", s, fv.Size))
		}
	}
	if s := q.Get("length"); s != "" {
		if n, err = strconv.ParseInt(s, 10, 64); err != nil || n < 0 {
			return badRequest(fmt.Errorf("length %q is not a byte count", s))
		}
	}
	size := int64(fv.Size) - off
	if n >= 0 && n < size {
		size = n
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	return d.acct.Vault().ReadRange(ctx, fv, w, off, size)
}

// handleVaultGet writes a file's bytes, or a folder as a tar whose one
// top-level entry is the folder.
func (d *Daemon) handleVaultGet(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p, err := queryPath(r, "path")
	if err != nil {
		return err
	}
	if r.URL.Query().Get("version") == "" {
		t, err := d.acct.ReadTree()
		if err != nil {
			return err
		}
		e, err := t.Stat(ctx, p)
		if err != nil {
			return vaultErr(err)
		}
		if e.Kind == vault.KindDir {
			w.Header().Set("Content-Type", api.ContentTar)
			tw := tar.NewWriter(w)
			name := path.Base(p)
			if p == "/" {
				name = "vault"
			}
			if err := d.writeTree(ctx, d.acct.Vault(), t, p, name, tw); err != nil {
				return err
			}
			return tw.Close()
		}
	}
	return d.handleVaultCat(w, r)
}

// writeTree writes the folder p of t into tw under name, reading files
// through v.
func (d *Daemon) writeTree(ctx context.Context, v *vault.Vault, t *vault.Tree, p, name string, tw *tar.Writer) error {
	es, err := t.List(ctx, p)
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755}); err != nil {
		return err
	}
	for _, e := range es {
		cp, cn := path.Join(p, e.Name), name+"/"+e.Name
		if e.Kind == vault.KindDir {
			if err := d.writeTree(ctx, v, t, cp, cn, tw); err != nil {
				return err
			}
			continue
		}
		fv, err := v.OpenFileWithKey(ctx, e.CID, e.Key, cp)
		if err != nil {
			return err
		}
		mode := int64(fv.Mode)
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: cn, Size: int64(fv.Size), Mode: mode, ModTime: time.Unix(0, fv.Mtime)}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if err := v.ReadRange(ctx, fv, tw, 0, -1); err != nil {
			return err
		}
	}
	return nil
}

func (d *Daemon) handleVaultMkdir(w http.ResponseWriter, r *http.Request) error {
	p, err := queryPath(r, "path")
	if err != nil {
		return err
	}
	parents := r.URL.Query().Get("parents") == "true"
	_, err = d.acct.Change(r.Context(), false, func(ctx context.Context, t *vault.Tree) error {
		return t.Mkdir(ctx, p, parents, time.Now().UnixNano())
	})
	if err != nil {
		return vaultErr(err)
	}
	return writeJSON(w, http.StatusOK, api.Entry{Name: path.Base(p), Path: p, Type: string(vault.KindDir)})
}

func (d *Daemon) handleVaultMv(w http.ResponseWriter, r *http.Request) error {
	from, err := queryPath(r, "from")
	if err != nil {
		return err
	}
	to, err := queryPath(r, "to")
	if err != nil {
		return err
	}
	_, err = d.acct.Change(r.Context(), false, func(ctx context.Context, t *vault.Tree) error {
		return t.Move(ctx, from, to)
	})
	if err != nil {
		return vaultErr(err)
	}
	return writeJSON(w, http.StatusOK, struct{}{})
}

func (d *Daemon) handleVaultRm(w http.ResponseWriter, r *http.Request) error {
	p, err := queryPath(r, "path")
	if err != nil {
		return err
	}
	recursive := r.URL.Query().Get("recursive") == "true"
	var gone vault.Entry
	_, err = d.acct.Change(r.Context(), false, func(ctx context.Context, t *vault.Tree) error {
		e, err := t.Stat(ctx, p)
		if err != nil {
			return err
		}
		if e.Kind == vault.KindDir && !recursive {
			if es, err := t.List(ctx, p); err != nil || len(es) > 0 {
				return &httpError{http.StatusConflict, fmt.Errorf("%s is a folder that is not empty: use -r to remove it with all it holds", p)}
			}
		}
		gone, err = t.Remove(ctx, p)
		return err
	})
	if err != nil {
		return vaultErr(err)
	}
	return writeJSON(w, http.StatusOK, entryJSON(p, gone))
}

// handleVaultHistory lists snapshots, or the versions of "path".
func (d *Daemon) handleVaultHistory(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	h := d.acct.Head()
	p := r.URL.Query().Get("path")
	if p == "" || p == "/" {
		out := []api.Snapshot{}
		if h == nil {
			return writeJSON(w, http.StatusOK, out)
		}
		snaps, err := d.acct.Vault().Log(ctx, h.CID, limit)
		if err != nil {
			return err
		}
		for _, s := range snaps {
			ps := []string{}
			for _, c := range s.Parents {
				ps = append(ps, c.String())
			}
			out = append(out, api.Snapshot{ID: s.CID.String(), Time: time.Unix(0, s.Time).UTC(), Device: s.Device, Seq: s.Seq, Parents: ps})
		}
		return writeJSON(w, http.StatusOK, out)
	}
	if _, err := vault.SplitPath(p); err != nil {
		return badRequest(err)
	}
	if h == nil {
		return notFound(fmt.Errorf("%s: %w (the vault is empty)", p, vault.ErrNotExist))
	}
	vs, err := d.acct.Vault().Versions(ctx, h.CID, p)
	if err != nil {
		return vaultErr(err)
	}
	if limit > 0 && len(vs) > limit {
		vs = vs[:limit]
	}
	out := make([]api.FileVersion, len(vs))
	for i, fv := range vs {
		out[i] = api.FileVersion{ID: fv.CID.String(), Name: fv.Name, Time: time.Unix(0, fv.Time).UTC(), Device: fv.Device, Size: fv.Size, Mtime: time.Unix(0, fv.Mtime).UTC()}
		if fv.Prev.Defined() {
			out[i].Prev = fv.Prev.String()
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// handleVaultRestore makes a version the newest at path again.
func (d *Daemon) handleVaultRestore(w http.ResponseWriter, r *http.Request) error {
	p, err := queryPath(r, "path")
	if err != nil {
		return err
	}
	if p == "/" {
		return badRequest(errors.New("give the path of a file to restore"))
	}
	old, err := d.openVersion(r.Context(), r, p)
	if err != nil {
		return err
	}
	var out api.Entry
	_, err = d.acct.Change(r.Context(), false, func(ctx context.Context, t *vault.Tree) error {
		var prev cid.Cid
		if e, err := t.Stat(ctx, p); err == nil {
			if e.Kind == vault.KindDir {
				return &httpError{http.StatusConflict, fmt.Errorf("%s is a folder now: restore the version elsewhere with -o", p)}
			}
			prev = e.CID
		}
		fv, err := d.acct.Vault().Revive(ctx, old, path.Base(p), prev)
		if err != nil {
			return err
		}
		out = entryJSON(p, vault.Entry{Name: path.Base(p), Kind: vault.KindFile, CID: fv.CID, Size: fv.Size, Mtime: fv.Mtime, Mode: fv.Mode})
		return t.PutFile(ctx, p, fv)
	})
	if err != nil {
		return vaultErr(err)
	}
	return writeJSON(w, http.StatusOK, out)
}

// logicalBytes sums the sizes of the files in the head's tree.
func (d *Daemon) logicalBytes(ctx context.Context) (uint64, error) {
	t, err := d.acct.ReadTree()
	if err != nil {
		return 0, err
	}
	var sum uint64
	var walk func(p string) error
	walk = func(p string) error {
		es, err := t.List(ctx, p)
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.Kind == vault.KindDir {
				if err := walk(path.Join(p, e.Name)); err != nil {
					return err
				}
				continue
			}
			sum += e.Size
		}
		return nil
	}
	return sum, walk("/")
}
