package api

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// SyncFolder is a local folder kept identical to a vault folder.
type SyncFolder struct {
	Dir   string    `json:"dir"`
	Vault string    `json:"vault"`
	Added time.Time `json:"added"`
}

// SyncStatus is what a synced folder is doing.
type SyncStatus struct {
	SyncFolder
	// State is idle, scanning, syncing, error or stopped.
	State string `json:"state"`
	// Pending counts changes seen and not yet synced.
	Pending   int       `json:"pending"`
	LastError string    `json:"last_error,omitempty"`
	Warning   string    `json:"warning,omitempty"`
	LastScan  time.Time `json:"last_scan"`
	LastSync  time.Time `json:"last_sync"`
	Files     int       `json:"files"`
	Folders   int       `json:"folders"`
	// OutOfSync lists paths not in sync and why (at most 1000;
	// OutOfSyncCount counts them all).
	OutOfSync      []SyncPath `json:"out_of_sync"`
	OutOfSyncCount int        `json:"out_of_sync_count"`
}

// SyncPath is a path of a synced folder that is not in sync, and why.
type SyncPath struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// SyncAdd starts syncing the daemon's local folder dir (absolute) with
// the vault folder to ("": "/" and the folder's name).
func (c *Client) SyncAdd(ctx context.Context, dir, to string) (SyncFolder, error) {
	var out SyncFolder
	return out, c.JSON(ctx, http.MethodPost, "/sync/add", url.Values{"dir": {dir}, "to": {to}}, &out)
}

// SyncLs lists the synced folders.
func (c *Client) SyncLs(ctx context.Context) ([]SyncFolder, error) {
	var out []SyncFolder
	return out, c.JSON(ctx, http.MethodGet, "/sync/ls", nil, &out)
}

// SyncRm stops syncing dir; nothing is deleted.
func (c *Client) SyncRm(ctx context.Context, dir string) error {
	var out struct{}
	return c.JSON(ctx, http.MethodPost, "/sync/rm", url.Values{"dir": {dir}}, &out)
}

// SyncStatus describes the synced folder dir, or all ("").
func (c *Client) SyncStatus(ctx context.Context, dir string) ([]SyncStatus, error) {
	var out []SyncStatus
	q := url.Values{}
	if dir != "" {
		q.Set("dir", dir)
	}
	return out, c.JSON(ctx, http.MethodGet, "/sync/status", q, &out)
}
