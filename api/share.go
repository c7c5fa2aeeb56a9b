package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// ShareRequest asks for a link to the file at Path (POST /share).
type ShareRequest struct {
	Path string `json:"path"`
	// Follow: the link opens the newest version at Path while the share
	// stands, not only the version there now.
	Follow bool `json:"follow,omitempty"`
	// Expires: a following link stops getting new versions after this
	// long (0: never).
	Expires time.Duration `json:"expires,omitempty"`
	// Password, when set, wraps the link's key (argon2id).
	Password string `json:"password,omitempty"`
	// With: share the version there now with these accounts (IDs or
	// contact names) instead of making a link: an envelope each can open,
	// sent to their inboxes.
	With []string `json:"with,omitempty"`
}

// Share is a link made by POST /share, or one that stands (GET /shares).
type Share struct {
	Link    string     `json:"link,omitempty"` // empty in listings: the link is shown once
	ID      string     `json:"id,omitempty"`   // a following share's ID (for 'peer unshare ID')
	Path    string     `json:"path"`
	Version string     `json:"version,omitempty"` // the version a link names; empty for a following one
	Follows bool       `json:"follows"`
	Made    time.Time  `json:"made"`
	Expires *time.Time `json:"expires,omitempty"`
	Ended   *time.Time `json:"ended,omitempty"`
	Locked  bool       `json:"locked,omitempty"` // the link needs a password
	With    []string   `json:"with,omitempty"`   // the accounts it was shared with
}

// Received is a file another account shared with this one (GET /shared).
type Received struct {
	From     string    `json:"from"`
	FromName string    `json:"from_name,omitempty"` // the sender's contact name
	Contact  bool      `json:"contact"`             // the sender was a contact when it came
	Name     string    `json:"name"`
	Size     uint64    `json:"size"`
	Mtime    time.Time `json:"mtime"`
	Shared   time.Time `json:"shared"`   // when the sender shared it
	Received time.Time `json:"received"` // when it came
	Link     string    `json:"link"`     // a link 'peer cat' opens
	Envelope string    `json:"envelope"`
}

// Contact is an account in this device's contacts.
type Contact struct {
	Account string    `json:"account"`
	Name    string    `json:"name,omitempty"`
	Added   time.Time `json:"added"`
	// Reachable (when adding): the account was found on the LAN and its
	// box key kept, so shares to it are sealed while it is away.
	Reachable bool `json:"reachable,omitempty"`
}

// Shared lists what other accounts shared with this one, newest first.
func (c *Client) Shared(ctx context.Context) ([]Received, error) {
	var out []Received
	return out, c.JSON(ctx, http.MethodGet, "/shared", nil, &out)
}

// Contacts lists this device's contacts.
func (c *Client) Contacts(ctx context.Context) ([]Contact, error) {
	var out []Contact
	return out, c.JSON(ctx, http.MethodGet, "/contacts", nil, &out)
}

// ContactAdd adds (or renames) a contact.
func (c *Client) ContactAdd(ctx context.Context, account, name string) (Contact, error) {
	var out Contact
	return out, c.postJSON(ctx, "/contacts/add", map[string]string{"account": account, "name": name}, &out)
}

// ContactRm removes a contact, by account ID or name.
func (c *Client) ContactRm(ctx context.Context, account string) (Contact, error) {
	var out Contact
	return out, c.postJSON(ctx, "/contacts/rm", map[string]string{"account": account}, &out)
}

// LinkRequest names a link to read (POST /links/stat, /links/cat).
type LinkRequest struct {
	Link     string `json:"link"`
	Password string `json:"password,omitempty"`
	Path     string `json:"path,omitempty"` // inside a link to a folder: "/a/b.txt" ("" or "/": the folder)
	Offset   int64  `json:"offset,omitempty"`
	Length   int64  `json:"length,omitempty"` // 0: to the end
}

// LinkInfo is what a link opens.
type LinkInfo struct {
	Entry
	Follows bool   `json:"follows"`
	Account string `json:"account,omitempty"` // a following link's account
}

func (c *Client) postJSON(ctx context.Context, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, http.MethodPost, path, nil, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("failed to read the daemon's answer: %w", err)
	}
	return nil
}

// Share makes a link to a file of the vault.
func (c *Client) Share(ctx context.Context, req ShareRequest) (Share, error) {
	var out Share
	return out, c.postJSON(ctx, "/share", req, &out)
}

// Unshare ends the following share that link or ID names, or every
// following share of path.
func (c *Client) Unshare(ctx context.Context, what string) ([]Share, error) {
	var out []Share
	return out, c.postJSON(ctx, "/unshare", map[string]string{"what": what}, &out)
}

// Shares lists this account's following shares, ended ones too.
func (c *Client) Shares(ctx context.Context) ([]Share, error) {
	var out []Share
	return out, c.JSON(ctx, http.MethodGet, "/shares", nil, &out)
}

// LinkStat says what a link opens, from any account.
func (c *Client) LinkStat(ctx context.Context, req LinkRequest) (LinkInfo, error) {
	var out LinkInfo
	return out, c.postJSON(ctx, "/links/stat", req, &out)
}

// LinkCat returns a response whose body is the bytes of the file a link
// opens (Offset and Length pick a range).
func (c *Client) LinkCat(ctx context.Context, req LinkRequest) (*http.Response, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, http.MethodPost, "/links/cat", nil, "application/json", bytes.NewReader(b))
}

// LinkLs lists the folder a link opens, at req.Path inside it (a link to
// a file lists that file).
func (c *Client) LinkLs(ctx context.Context, req LinkRequest) ([]Entry, error) {
	var out []Entry
	return out, c.postJSON(ctx, "/links/ls", req, &out)
}

// LinkGet returns a response whose body is the file a link opens (at
// req.Path inside a folder) or, for a folder, a tar stream of it
// (Content-Type ContentTar).
func (c *Client) LinkGet(ctx context.Context, req LinkRequest) (*http.Response, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, http.MethodPost, "/links/get", nil, "application/json", bytes.NewReader(b))
}

// PublishRequest puts a file into the account's public index (POST
// /publish): the vault file at Path, or, with Account, the file Path
// ("/NAME") of that account's public index (a re-share).
type PublishRequest struct {
	Path    string `json:"path"`
	Account string `json:"account,omitempty"`
	As      string `json:"as,omitempty"` // the name in the index (default: the file's)
}

// PublicEntry is a name of the public index.
type PublicEntry struct {
	Name string    `json:"name"`
	ID   string    `json:"id"` // the plain UnixFS DAG's CID
	Size uint64    `json:"size"`
	Time time.Time `json:"time"`
	Path string    `json:"path"` // the path any IPFS node reads it at
}

// Publish puts a file into this account's public index, unencrypted.
func (c *Client) Publish(ctx context.Context, req PublishRequest) (PublicEntry, error) {
	var out PublicEntry
	return out, c.postJSON(ctx, "/publish", req, &out)
}

// Unpublish takes a name out of this account's public index.
func (c *Client) Unpublish(ctx context.Context, name string) error {
	return c.postJSON(ctx, "/unpublish", map[string]string{"name": name}, nil)
}

// PublicCat returns a response whose body is the file p ("/NAME") of an
// account's public index.
func (c *Client) PublicCat(ctx context.Context, account, p string) (*http.Response, error) {
	return c.Do(ctx, http.MethodGet, "/name/cat/"+url.PathEscape(account), url.Values{"path": {p}}, "", nil)
}

// PublicGet returns a response whose body is the file p ("/NAME/...") of
// an account's public index or, for a folder, a tar stream of it
// (Content-Type ContentTar).
func (c *Client) PublicGet(ctx context.Context, account, p string) (*http.Response, error) {
	return c.Do(ctx, http.MethodGet, "/name/get/"+url.PathEscape(account), url.Values{"path": {p}}, "", nil)
}
