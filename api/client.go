package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to a daemon's API.
type Client struct {
	// Base is the API's URL, e.g. "http://127.0.0.1:5010".
	Base string
	// Token is the repo's API token.
	Token string
	// HTTP is the client to use; nil means one without timeouts (adds and
	// downloads may take long; cancel through the context).
	HTTP *http.Client
}

// ErrUnauthorized reports a request the daemon refused for its token.
var ErrUnauthorized = errors.New("the daemon refused the API token (is PEER_PATH the daemon's repo?)")

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{}
}

// Do sends a request to path (under Version) and returns the response if
// its status is 2xx; otherwise it returns the daemon's error.
func (c *Client) Do(ctx context.Context, method, path string, q url.Values, contentType string, body io.Reader) (*http.Response, error) {
	u := strings.TrimRight(c.Base, "/") + Version + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("failed to build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to reach the daemon at %s (is 'peer daemon' running?): %w", c.Base, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, ErrUnauthorized
	}
	var e Error
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(b))
	}
	return nil, fmt.Errorf("%s", e.Error)
}

// JSON sends a request and decodes a JSON answer into out.
func (c *Client) JSON(ctx context.Context, method, path string, q url.Values, out any) error {
	resp, err := c.Do(ctx, method, path, q, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("failed to decode the daemon's answer: %w", err)
	}
	return nil
}

// ID returns the node's identity.
func (c *Client) ID(ctx context.Context) (ID, error) {
	var out ID
	return out, c.JSON(ctx, http.MethodGet, "/id", nil, &out)
}

// Peers lists connected peers. With wait > 0 the daemon first waits (up
// to timeout) until at least wait peers are connected.
func (c *Client) Peers(ctx context.Context, wait int, timeout time.Duration) ([]Peer, error) {
	var out []Peer
	q := url.Values{}
	if wait > 0 {
		q.Set("wait", strconv.Itoa(wait))
		q.Set("timeout", timeout.String())
	}
	return out, c.JSON(ctx, http.MethodGet, "/peers", q, &out)
}

// BitswapStat returns Bitswap's counters.
func (c *Client) BitswapStat(ctx context.Context) (BitswapStat, error) {
	var out BitswapStat
	return out, c.JSON(ctx, http.MethodGet, "/stats/bitswap", nil, &out)
}

// Add uploads a file (contentType ContentFile) or a tar of a tree
// (ContentTar), and pins it unless pin is false.
func (c *Client) Add(ctx context.Context, contentType string, body io.Reader, pin bool) (Added, error) {
	var out Added
	q := url.Values{"pin": {fmt.Sprint(pin)}}
	resp, err := c.Do(ctx, http.MethodPost, "/ipfs/add", q, contentType, body)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("failed to decode the daemon's answer: %w", err)
	}
	return out, nil
}

// Stat describes the UnixFS DAG at cid.
func (c *Client) Stat(ctx context.Context, cid string) (Stat, error) {
	var out Stat
	return out, c.JSON(ctx, http.MethodGet, "/ipfs/stat/"+url.PathEscape(cid), nil, &out)
}

// Cat returns the bytes of the file at cid.
func (c *Client) Cat(ctx context.Context, cid string) (io.ReadCloser, error) {
	resp, err := c.Do(ctx, http.MethodGet, "/ipfs/cat/"+url.PathEscape(cid), nil, "", nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Get returns a response whose body is a tar of the file or tree at cid,
// its top entry named cid; the X-Content-Size header holds the size.
func (c *Client) Get(ctx context.Context, cid string) (*http.Response, error) {
	return c.Do(ctx, http.MethodGet, "/ipfs/get/"+url.PathEscape(cid), nil, "", nil)
}

// PinAdd fetches the whole DAG at cid and pins it.
func (c *Client) PinAdd(ctx context.Context, cid string) (Pinned, error) {
	var out Pinned
	return out, c.JSON(ctx, http.MethodPost, "/pin/add/"+url.PathEscape(cid), nil, &out)
}

// PinRm removes the pin of cid.
func (c *Client) PinRm(ctx context.Context, cid string) error {
	var out Pin
	return c.JSON(ctx, http.MethodPost, "/pin/rm/"+url.PathEscape(cid), nil, &out)
}

// PinLs lists pins.
func (c *Client) PinLs(ctx context.Context) ([]Pin, error) {
	var out []Pin
	return out, c.JSON(ctx, http.MethodGet, "/pin/ls", nil, &out)
}

// RepoStat describes the block store.
func (c *Client) RepoStat(ctx context.Context) (RepoStat, error) {
	var out RepoStat
	return out, c.JSON(ctx, http.MethodGet, "/repo/stat", nil, &out)
}

// RepoGC removes unpinned blocks.
func (c *Client) RepoGC(ctx context.Context) (GCResult, error) {
	var out GCResult
	return out, c.JSON(ctx, http.MethodPost, "/repo/gc", nil, &out)
}
