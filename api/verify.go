package api

import (
	"context"
	"net/http"
)

// VerifyReport is what GET /repo/verify found: every block re-hashed, and
// every pin and the account's head (its whole history) walked.
type VerifyReport struct {
	// OK is true when nothing is damaged or missing.
	OK bool `json:"ok"`
	// Blocks is the number of blocks read and re-hashed; Bytes their size.
	Blocks int   `json:"blocks"`
	Bytes  int64 `json:"bytes"`
	// Roots is the number of pins and kept roots walked; Reachable the
	// blocks they need.
	Roots     int `json:"roots"`
	Reachable int `json:"reachable"`
	// Damaged lists blocks whose bytes do not match their CID or cannot be
	// read; Missing the blocks a root needs that the store lacks.
	Damaged []VerifyProblem `json:"damaged"`
	Missing []VerifyProblem `json:"missing"`
}

// VerifyProblem is one damaged or missing block.
type VerifyProblem struct {
	CID string `json:"cid"`
	// Root is the pin or kept root (the account's head) that needs the
	// block; empty for a damaged block nothing needs.
	Root   string `json:"root,omitempty"`
	Reason string `json:"reason"`
}

// RepoVerify re-hashes every block and checks that every pin and the
// account's history are whole. It takes as long as reading the store.
func (c *Client) RepoVerify(ctx context.Context) (VerifyReport, error) {
	var out VerifyReport
	return out, c.JSON(ctx, http.MethodGet, "/repo/verify", nil, &out)
}
