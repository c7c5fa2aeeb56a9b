package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// CARImported says what a CAR import stored and pinned.
type CARImported struct {
	Blocks int      `json:"blocks"`
	Bytes  uint64   `json:"bytes"`
	Roots  []Pinned `json:"roots"` // each root, pinned, with what completing its DAG fetched
}

// ContentCAR is the media type of a CAR.
const ContentCAR = "application/vnd.ipld.car"

// CARImport sends a CAR (v1 or v2) to the daemon, which stores its blocks
// and pins its roots.
func (c *Client) CARImport(ctx context.Context, car io.Reader) (CARImported, error) {
	var out CARImported
	resp, err := c.Do(ctx, http.MethodPost, "/ipfs/car/import", nil, ContentCAR, car)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("failed to decode the daemon's answer: %w", err)
	}
	return out, nil
}

// CARExport returns a CAR (v1) of the whole DAG at cid, from the daemon's
// gateway, fetching from the network what the node lacks.
func (c *Client) CARExport(ctx context.Context, cid string) (io.ReadCloser, error) {
	u := strings.TrimRight(c.Base, "/") + "/ipfs/" + url.PathEscape(cid) + "?format=car&dag-scope=all&car-version=1"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to build request: %w", err)
	}
	req.Header.Set("Accept", ContentCAR)
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("failed to reach the daemon at %s (is 'peer daemon' running?): %w", c.Base, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("failed to export %s: %s: %s", cid, resp.Status, strings.TrimSpace(string(b)))
	}
	return resp.Body, nil
}
