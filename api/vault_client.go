package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Account returns the node's account and device.
func (c *Client) Account(ctx context.Context) (Account, error) {
	var out Account
	return out, c.JSON(ctx, http.MethodGet, "/account", nil, &out)
}

// VaultAdd asks the daemon to add files and folders it reads from its own
// file system (absolute paths) into the folder to. progress, if not nil,
// hears the bytes read so far.
func (c *Client) VaultAdd(ctx context.Context, to string, paths []string, progress func(uint64)) (AddResult, error) {
	return c.VaultAddRequest(ctx, to, AddRequest{Paths: paths}, progress)
}

// VaultAddRequest adds what req names into to (and shares it, with
// req.ShareWith).
func (c *Client) VaultAddRequest(ctx context.Context, to string, req AddRequest, progress func(uint64)) (AddResult, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return AddResult{}, err
	}
	return c.vaultAdd(ctx, to, "application/json", bytes.NewReader(body), progress)
}

// VaultAddTar adds the files and folders of a tar stream into to.
func (c *Client) VaultAddTar(ctx context.Context, to string, r io.Reader, progress func(uint64)) (AddResult, error) {
	return c.vaultAdd(ctx, to, ContentTar, r, progress)
}

func (c *Client) vaultAdd(ctx context.Context, to, ct string, body io.Reader, progress func(uint64)) (AddResult, error) {
	resp, err := c.Do(ctx, http.MethodPost, "/vault/add", url.Values{"to": {to}}, ct, body)
	if err != nil {
		return AddResult{}, err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var p AddProgress
		if err := dec.Decode(&p); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return AddResult{}, fmt.Errorf("failed to read the daemon's answer: %w", err)
		}
		if p.Result != nil {
			if p.Error != "" {
				return *p.Result, errors.New(p.Error)
			}
			return *p.Result, nil
		}
		if progress != nil {
			progress(p.Bytes)
		}
	}
}

// VaultLs lists the folder at p, or describes the file at p.
func (c *Client) VaultLs(ctx context.Context, p string) ([]Entry, error) {
	var out []Entry
	return out, c.JSON(ctx, http.MethodGet, "/vault/ls", url.Values{"path": {p}}, &out)
}

// VaultCat returns a response whose body is bytes [off, off+n) of the file
// at p (n < 0: to the end), or of its version when version is not empty.
func (c *Client) VaultCat(ctx context.Context, p, version string, off, n int64) (*http.Response, error) {
	q := url.Values{"path": {p}}
	if version != "" {
		q.Set("version", version)
	}
	if off > 0 {
		q.Set("offset", strconv.FormatInt(off, 10))
	}
	if n >= 0 {
		q.Set("length", strconv.FormatInt(n, 10))
	}
	return c.Do(ctx, http.MethodGet, "/vault/cat", q, "", nil)
}

// VaultGet returns a response whose body is the file at p, or a tar of
// the folder at p (Content-Type ContentTar).
func (c *Client) VaultGet(ctx context.Context, p, version string) (*http.Response, error) {
	q := url.Values{"path": {p}}
	if version != "" {
		q.Set("version", version)
	}
	return c.Do(ctx, http.MethodGet, "/vault/get", q, "", nil)
}

// VaultMkdir makes the folder p (with parents: its missing parents too).
func (c *Client) VaultMkdir(ctx context.Context, p string, parents bool) error {
	var out Entry
	return c.JSON(ctx, http.MethodPost, "/vault/mkdir", url.Values{"path": {p}, "parents": {strconv.FormatBool(parents)}}, &out)
}

// VaultMv moves from to to (into to, when it is a folder).
func (c *Client) VaultMv(ctx context.Context, from, to string) error {
	var out struct{}
	return c.JSON(ctx, http.MethodPost, "/vault/mv", url.Values{"from": {from}, "to": {to}}, &out)
}

// VaultRm removes p; a folder that is not empty needs recursive.
func (c *Client) VaultRm(ctx context.Context, p string, recursive bool) (Entry, error) {
	var out Entry
	return out, c.JSON(ctx, http.MethodPost, "/vault/rm", url.Values{"path": {p}, "recursive": {strconv.FormatBool(recursive)}}, &out)
}

// Snapshots lists the account's snapshots, newest first.
func (c *Client) Snapshots(ctx context.Context, limit int) ([]Snapshot, error) {
	var out []Snapshot
	return out, c.JSON(ctx, http.MethodGet, "/vault/history", url.Values{"limit": {strconv.Itoa(limit)}}, &out)
}

// Versions lists the versions of the file at p, newest first, also for a
// deleted file.
func (c *Client) Versions(ctx context.Context, p string, limit int) ([]FileVersion, error) {
	var out []FileVersion
	return out, c.JSON(ctx, http.MethodGet, "/vault/history", url.Values{"path": {p}, "limit": {strconv.Itoa(limit)}}, &out)
}

// Restore makes version the newest version at p again.
func (c *Client) Restore(ctx context.Context, p, version string) (Entry, error) {
	var out Entry
	return out, c.JSON(ctx, http.MethodPost, "/vault/restore", url.Values{"path": {p}, "version": {version}}, &out)
}

// Status returns the node's account status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var out Status
	return out, c.JSON(ctx, http.MethodGet, "/status", nil, &out)
}

// Resolve returns where an account's name points: from pubsub or the
// DHT, or with dhtOnly from the DHT alone.
func (c *Client) Resolve(ctx context.Context, account string, dhtOnly bool) (Resolved, error) {
	var out Resolved
	var q url.Values
	if dhtOnly {
		q = url.Values{"via": {"dht"}}
	}
	return out, c.JSON(ctx, http.MethodGet, "/name/resolve/"+url.PathEscape(account), q, &out)
}

// PublicLs lists a folder of an account's public index.
func (c *Client) PublicLs(ctx context.Context, account, p string) ([]Entry, error) {
	var out []Entry
	return out, c.JSON(ctx, http.MethodGet, "/name/ls/"+url.PathEscape(account), url.Values{"path": {p}}, &out)
}
