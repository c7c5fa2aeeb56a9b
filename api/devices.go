package api

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Device is one device of the account (GET /devices).
type Device struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Linked is when the account certified it; absent for a removed
	// device whose certificate this device never saw.
	Linked *time.Time `json:"linked,omitempty"`
	// LastSeen is when it was last connected to this device (now, when
	// connected); absent when never seen.
	LastSeen  *time.Time `json:"last_seen,omitempty"`
	Connected bool       `json:"connected"`
	This      bool       `json:"this"`
	Removed   bool       `json:"removed"`
	RemovedBy string     `json:"removed_by,omitempty"`
	RemovedAt *time.Time `json:"removed_at,omitempty"`
}

// Devices lists the account's devices: this one first, removed ones last.
func (c *Client) Devices(ctx context.Context) ([]Device, error) {
	var out []Device
	return out, c.JSON(ctx, http.MethodGet, "/devices", nil, &out)
}

// RemoveDevice removes a device (by peer ID, or a unique prefix of one,
// or a unique name) and returns it as now listed.
func (c *Client) RemoveDevice(ctx context.Context, id string) (Device, error) {
	var out Device
	return out, c.JSON(ctx, http.MethodPost, "/devices/remove", url.Values{"id": {id}}, &out)
}
