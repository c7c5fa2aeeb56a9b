// Package api defines the daemon's HTTP API: its routes, the JSON bodies
// they exchange, and a client. Every request carries the repo's token as
// "Authorization: Bearer TOKEN"; without it the daemon answers 401.
// Errors come back as {"error": "..."} with a 4xx or 5xx status.
package api

import "time"

// Version is the API's path prefix.
const Version = "/api/v1"

// ID describes the node.
type ID struct {
	ID      string   `json:"id"`
	Addrs   []string `json:"addrs"`
	Profile string   `json:"profile"`
	// DonorOnly: the node has no account of its own (donor.only); it
	// serves the donor's and the node's routes only.
	DonorOnly bool `json:"donor_only,omitempty"`
}

// Peer is a connected peer.
type Peer struct {
	ID        string `json:"id"`
	Addr      string `json:"addr"`
	Direction string `json:"direction"`
}

// Added is the result of an add.
type Added struct {
	CID  string `json:"cid"`
	Size uint64 `json:"size"`
	Kind string `json:"type"`
}

// Stat describes a UnixFS DAG, the size an export will have.
type Stat struct {
	CID  string `json:"cid"`
	Kind string `json:"type"`
	Size uint64 `json:"size"`
}

// Pin is a pinned root.
type Pin struct {
	CID  string `json:"cid"`
	Type string `json:"type"`
}

// Pinned is the result of a pin add.
type Pinned struct {
	CID    string `json:"cid"`
	Blocks int    `json:"blocks"`
	Bytes  int64  `json:"bytes"`
}

// RepoStat describes the block store.
type RepoStat struct {
	Blocks     int    `json:"blocks"`
	BlockBytes int64  `json:"block_bytes"`
	DiskBytes  int64  `json:"disk_bytes"`
	Pins       int    `json:"pins"`
	Profile    string `json:"profile"`
	// StoredBytes is what the block store holds (all history, encrypted,
	// deduplicated); LogicalBytes the sizes of the files in the newest
	// snapshot.
	StoredBytes  int64  `json:"stored_bytes"`
	LogicalBytes uint64 `json:"logical_bytes"`
	// DHTRecords and DHTRecordBytes are the LAN DHT records (IPNS names,
	// public keys) held, this node's and others'; DHTMaxRecords and
	// DHTMaxBytes the quota beyond which puts from others are refused;
	// DHTRefused how many puts were refused since the daemon started (over
	// the quota or a peer's rate).
	DHTRecords     int    `json:"dht_records"`
	DHTRecordBytes int64  `json:"dht_record_bytes"`
	DHTMaxRecords  int    `json:"dht_max_records"`
	DHTMaxBytes    int64  `json:"dht_max_bytes"`
	DHTRefused     uint64 `json:"dht_refused"`
}

// GCResult says what a garbage collection removed.
type GCResult struct {
	Removed    int   `json:"removed"`
	FreedBytes int64 `json:"freed_bytes"`
	Kept       int   `json:"kept"`
}

// Error is the body of an error response.
type Error struct {
	Error string `json:"error"`
}

// Content types of add uploads.
const (
	ContentFile = "application/octet-stream"
	ContentTar  = "application/x-tar"
)

// BitswapStat counts what Bitswap moved since the daemon started.
type BitswapStat struct {
	BlocksReceived uint64 `json:"blocks_received"`
	DataReceived   uint64 `json:"data_received"`
	DupBlocks      uint64 `json:"dup_blocks"`
	BlocksSent     uint64 `json:"blocks_sent"`
	DataSent       uint64 `json:"data_sent"`
	Wantlist       int    `json:"wantlist"`
	Peers          int    `json:"peers"`
}

// Replicas is who holds the account's head, or a path's version
// (GET /replicas).
type Replicas struct {
	Account string    `json:"account"`
	Head    string    `json:"head"`
	Path    string    `json:"path,omitempty"`
	Version string    `json:"version,omitempty"` // the path's version (or folder node) probed
	Probes  int       `json:"probes"`            // blocks each holder was asked to prove
	Holders []Replica `json:"holders"`
}

// Replica is one holder: a device of the account or a donor that answered
// with a signed receipt, proving Proved of the probes, or a provider the
// DHT names.
type Replica struct {
	Peer    string    `json:"peer"`
	Role    string    `json:"role"` // "device", "donor", "provider", or "" (it answered, holding nothing it said)
	Head    string    `json:"head,omitempty"`
	Current bool      `json:"current"` // it holds this device's head
	Seq     uint64    `json:"seq,omitempty"`
	Claimed int       `json:"claimed"` // probes it answered with a proof
	Proved  int       `json:"proved"`  // of those, the proofs that hold
	Time    time.Time `json:"time,omitzero"`
	Error   string    `json:"error,omitempty"`
}

// RemotePin is a Pinning Service API endpoint the account is kept pinned
// at (GET /replicas/services): the request there and how it stands.
type RemotePin struct {
	Name      string    `json:"name"`
	URL       string    `json:"url"`
	RequestID string    `json:"request_id,omitempty"`
	Root      string    `json:"root,omitempty"`   // the account root it was asked to pin
	Status    string    `json:"status,omitempty"` // queued, pinning, pinned, failed
	Checked   time.Time `json:"checked,omitzero"`
	Error     string    `json:"error,omitempty"`
}
