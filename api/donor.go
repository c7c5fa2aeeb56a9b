package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DonorStatus is what a donor serves and holds.
type DonorStatus struct {
	// Quota bounds all served accounts together, PerAccount each (0: no
	// bound); Used is what they hold.
	Quota      int64 `json:"quota"`
	PerAccount int64 `json:"per_account"`
	Used       int64 `json:"used"`
	// Open: it takes accounts whose devices ask (donor.open).
	Open bool `json:"open"`
	// KeepSnapshots and KeepFor are the history policy (0: all, any age).
	KeepSnapshots int           `json:"keep_snapshots"`
	KeepFor       time.Duration `json:"keep_for_ns"`
	// Fetched counts the bytes fetched since the daemon started.
	Fetched  int64          `json:"fetched"`
	Accounts []DonorAccount `json:"accounts"`
}

// DonorAccount is what a donor holds of one account.
type DonorAccount struct {
	Account string `json:"account"`
	// Root and Head are the account root and head snapshot held (empty
	// before the first), RootSeq the sequence of the record naming them.
	Root    string `json:"root,omitempty"`
	Head    string `json:"head,omitempty"`
	RootSeq uint64 `json:"root_seq"`
	// Seq and EOL are the newest record seen, which the donor republishes.
	Seq       uint64    `json:"seq"`
	EOL       time.Time `json:"eol"`
	Bytes     int64     `json:"bytes"`
	Snapshots int       `json:"snapshots"`
	// Cut says why older history is not held: "policy" or "quota".
	Cut string `json:"cut,omitempty"`
	// Refused is a newer root not taken: its newest snapshot alone is
	// over the account's share.
	Refused       string    `json:"refused,omitempty"`
	LastChange    time.Time `json:"last_change"`
	LastRepublish time.Time `json:"last_republish"`
	Error         string    `json:"error,omitempty"`
}

// DonorStatus returns what the daemon serves as a donor.
func (c *Client) DonorStatus(ctx context.Context) (DonorStatus, error) {
	var out DonorStatus
	return out, c.JSON(ctx, http.MethodGet, "/donor", nil, &out)
}

// DonateRequest changes what a donor serves: nil fields stay as they are.
type DonateRequest struct {
	// Accounts (k51... IDs) are served besides those served.
	Accounts []string
	// Quota and PerAccount are bytes (0: no bound).
	Quota, PerAccount *int64
	// Open makes the donor take any account whose device asks, or not.
	Open *bool
}

// Donate changes what the donor serves and returns its status.
func (c *Client) Donate(ctx context.Context, req DonateRequest) (DonorStatus, error) {
	q := url.Values{}
	if len(req.Accounts) > 0 {
		q.Set("accounts", strings.Join(req.Accounts, ","))
	}
	if req.Quota != nil {
		q.Set("quota", strconv.FormatInt(*req.Quota, 10))
	}
	if req.PerAccount != nil {
		q.Set("per_account", strconv.FormatInt(*req.PerAccount, 10))
	}
	if req.Open != nil {
		q.Set("open", strconv.FormatBool(*req.Open))
	}
	var out DonorStatus
	return out, c.JSON(ctx, http.MethodPost, "/donor/serve", q, &out)
}

// DonateStop stops serving an account and lets go of what it held.
func (c *Client) DonateStop(ctx context.Context, account string) (DonorStatus, error) {
	var out DonorStatus
	return out, c.JSON(ctx, http.MethodPost, "/donor/stop", url.Values{"account": {account}}, &out)
}

// Replicas asks who holds the account's head, or the version at p ("":
// the head), and how it was proved.
func (c *Client) Replicas(ctx context.Context, p string) (Replicas, error) {
	var out Replicas
	var q url.Values
	if p != "" {
		q = url.Values{"path": {p}}
	}
	return out, c.JSON(ctx, http.MethodGet, "/replicas", q, &out)
}

// PinningToken is a token for a client of the node's Pinning Service API
// and the endpoint it is served at.
// Token and Endpoint are only given when the token is issued: the node
// keeps only the token's hash.
type PinningToken struct {
	Token    string    `json:"token,omitempty"`
	Endpoint string    `json:"endpoint,omitempty"`
	ID       string    `json:"id"`
	Name     string    `json:"name,omitempty"`
	Issued   time.Time `json:"issued"`
}

// DonorPinningToken issues a token, named name (may be ""), for a
// Pinning Service API client.
func (c *Client) DonorPinningToken(ctx context.Context, name string) (PinningToken, error) {
	var out PinningToken
	var q url.Values
	if name != "" {
		q = url.Values{"name": {name}}
	}
	return out, c.JSON(ctx, http.MethodPost, "/donor/pinning-token", q, &out)
}

// DonorPinningTokens lists the tokens issued and not revoked.
func (c *Client) DonorPinningTokens(ctx context.Context) ([]PinningToken, error) {
	var out []PinningToken
	return out, c.JSON(ctx, http.MethodGet, "/donor/pinning-tokens", nil, &out)
}

// DonorPinningRevoke revokes a token, given by its ID or itself.
func (c *Client) DonorPinningRevoke(ctx context.Context, idOrToken string) (PinningToken, error) {
	var out PinningToken
	return out, c.JSON(ctx, http.MethodPost, "/donor/pinning-token/revoke", url.Values{"token": {idOrToken}}, &out)
}

// RemotePins lists the Pinning Service API endpoints the account is kept
// pinned at.
func (c *Client) RemotePins(ctx context.Context) ([]RemotePin, error) {
	var out []RemotePin
	return out, c.JSON(ctx, http.MethodGet, "/replicas/services", nil, &out)
}

// RemotePinAdd keeps the account pinned at a Pinning Service API endpoint.
func (c *Client) RemotePinAdd(ctx context.Context, name, endpoint, token string) ([]RemotePin, error) {
	var out []RemotePin
	return out, c.postJSON(ctx, "/replicas/services/add", map[string]string{"name": name, "url": endpoint, "token": token}, &out)
}

// RemotePinRm stops keeping the account pinned at a service.
func (c *Client) RemotePinRm(ctx context.Context, name string) ([]RemotePin, error) {
	var out []RemotePin
	return out, c.postJSON(ctx, "/replicas/services/rm", map[string]string{"name": name}, &out)
}
