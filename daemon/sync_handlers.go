package daemon

import (
	"errors"
	"net/http"
	"path/filepath"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/sync/folder"
)

// syncErr gives folder sync errors their HTTP status.
func syncErr(err error) error {
	if errors.Is(err, folder.ErrNotSynced) {
		return notFound(err)
	}
	return badRequest(err)
}

func syncFolderJSON(c folder.Config) api.SyncFolder {
	return api.SyncFolder{Dir: c.Dir, Vault: c.Vault, Added: time.Unix(0, c.Added).UTC()}
}

// localDir reads the "dir" parameter: an absolute local path.
func localDir(r *http.Request) (string, error) {
	dir := r.URL.Query().Get("dir")
	if !filepath.IsAbs(dir) {
		return "", badRequest(errors.New("give the folder as an absolute path"))
	}
	return dir, nil
}

func (d *Daemon) handleSyncAdd(w http.ResponseWriter, r *http.Request) error {
	dir, err := localDir(r)
	if err != nil {
		return err
	}
	c, err := d.folders.Add(r.Context(), dir, r.URL.Query().Get("to"))
	if err != nil {
		return syncErr(err)
	}
	return writeJSON(w, http.StatusOK, syncFolderJSON(c))
}

func (d *Daemon) handleSyncLs(w http.ResponseWriter, r *http.Request) error {
	out := []api.SyncFolder{}
	for _, c := range d.folders.List() {
		out = append(out, syncFolderJSON(c))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (d *Daemon) handleSyncRm(w http.ResponseWriter, r *http.Request) error {
	dir, err := localDir(r)
	if err != nil {
		return err
	}
	if err := d.folders.Remove(r.Context(), dir); err != nil {
		return syncErr(err)
	}
	return writeJSON(w, http.StatusOK, struct{}{})
}

func (d *Daemon) handleSyncStatus(w http.ResponseWriter, r *http.Request) error {
	dir := r.URL.Query().Get("dir")
	if dir != "" && !filepath.IsAbs(dir) {
		return badRequest(errors.New("give the folder as an absolute path"))
	}
	ss, err := d.folders.Status(dir)
	if err != nil {
		return syncErr(err)
	}
	out := []api.SyncStatus{}
	for _, s := range ss {
		as := api.SyncStatus{
			SyncFolder: syncFolderJSON(s.Config), State: string(s.State), Pending: s.Pending,
			LastError: s.LastError, Warning: s.Warning, LastScan: s.LastScan, LastSync: s.LastSync,
			Files: s.Files, Folders: s.Folders, OutOfSync: []api.SyncPath{}, OutOfSyncCount: s.OutOfSyncCount,
		}
		for _, p := range s.OutOfSync {
			as.OutOfSync = append(as.OutOfSync, api.SyncPath{Path: p.Path, Reason: p.Reason})
		}
		out = append(out, as)
	}
	return writeJSON(w, http.StatusOK, out)
}
