package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// LinkOffer is a link offer made by the daemon (POST /link) and how it
// stands (GET /link/{id}).
type LinkOffer struct {
	ID      string    `json:"id"`
	URI     string    `json:"uri"`
	Expires time.Time `json:"expires"`
	// State is waiting, confirm, sending, joined, failed, expired or
	// cancelled; the last four are final.
	State string `json:"state"`
	// Fingerprint, Device and DeviceName: the device that proved the
	// secret, from state confirm on.
	Fingerprint string `json:"fingerprint,omitempty"`
	Device      string `json:"device,omitempty"`
	DeviceName  string `json:"device_name,omitempty"`
	Error       string `json:"error,omitempty"`
	// Version grows with every change of the offer.
	Version uint64 `json:"version"`
}

// Final reports whether the offer can change no more.
func (o LinkOffer) Final() bool {
	switch o.State {
	case "joined", "failed", "expired", "cancelled":
		return true
	}
	return false
}

// LinkOffer opens a link offer for expires (the daemon's default when 0),
// replacing any open one; with yes, the device that proves the secret is
// welcomed without a confirmation.
func (c *Client) LinkOffer(ctx context.Context, expires time.Duration, yes bool) (LinkOffer, error) {
	q := url.Values{}
	if expires > 0 {
		q.Set("expires", expires.String())
	}
	if yes {
		q.Set("yes", "true")
	}
	var out LinkOffer
	return out, c.JSON(ctx, http.MethodPost, "/link", q, &out)
}

// LinkWait returns the offer once its version is above since, or after
// about 30 s with the offer as it is.
func (c *Client) LinkWait(ctx context.Context, id string, since uint64) (LinkOffer, error) {
	var out LinkOffer
	q := url.Values{"since": {strconv.FormatUint(since, 10)}}
	return out, c.JSON(ctx, http.MethodGet, "/link/"+url.PathEscape(id), q, &out)
}

// LinkConfirm answers the offer's confirmation: accept welcomes the
// device, otherwise it is refused.
func (c *Client) LinkConfirm(ctx context.Context, id string, accept bool) error {
	var out LinkOffer
	q := url.Values{"accept": {strconv.FormatBool(accept)}}
	return c.JSON(ctx, http.MethodPost, "/link/"+url.PathEscape(id)+"/confirm", q, &out)
}

// LinkCancel ends an offer that is not past its confirmation.
func (c *Client) LinkCancel(ctx context.Context, id string) error {
	var out LinkOffer
	return c.JSON(ctx, http.MethodDelete, "/link/"+url.PathEscape(id), nil, &out)
}
