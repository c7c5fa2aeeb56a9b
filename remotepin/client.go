package remotepin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/pinsvc"
)

// client speaks the Pinning Service API to one endpoint.
type client struct {
	url, token string
	http       *http.Client
}

func (c client) do(ctx context.Context, method, path string, body any) (pinsvc.Status, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return pinsvc.Status{}, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.url, "/")+path, rd)
	if err != nil {
		return pinsvc.Status{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return pinsvc.Status{}, fmt.Errorf("failed to reach the pinning service: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Reason, Details string } `json:"error"`
		}
		json.Unmarshal(data, &e)
		return pinsvc.Status{}, fmt.Errorf("the pinning service answered %s: %s %s", resp.Status, e.Error.Reason, e.Error.Details)
	}
	var st pinsvc.Status
	if method != http.MethodDelete {
		if err := json.Unmarshal(data, &st); err != nil {
			return pinsvc.Status{}, fmt.Errorf("the pinning service's answer is not a pin status: %w", err)
		}
	}
	return st, nil
}

// add asks for c; replace (with the request ID of an earlier one)
// replaces that request.
func (c client) add(ctx context.Context, replace string, root cid.Cid, name string, origins []string) (pinsvc.Status, error) {
	p := pinsvc.Pin{CID: root.String(), Name: name, Origins: origins}
	if replace != "" {
		return c.do(ctx, http.MethodPost, "/pins/"+replace, p)
	}
	return c.do(ctx, http.MethodPost, "/pins", p)
}

func (c client) status(ctx context.Context, id string) (pinsvc.Status, error) {
	return c.do(ctx, http.MethodGet, "/pins/"+id, nil)
}

func (c client) remove(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/pins/"+id, nil)
	return err
}
