package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
}

// LinkRequest names a link to read (POST /links/stat, /links/cat).
type LinkRequest struct {
	Link     string `json:"link"`
	Password string `json:"password,omitempty"`
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
