package api

import "time"

// Account describes the node's account and device.
type Account struct {
	Account string    `json:"account"`
	Device  string    `json:"device"`
	Head    string    `json:"head,omitempty"`
	Seq     uint64    `json:"seq,omitempty"`
	Time    time.Time `json:"time,omitzero"`
}

// Entry is one file or folder of the vault.
type Entry struct {
	Name  string    `json:"name"`
	Path  string    `json:"path"`
	Type  string    `json:"type"` // "file" or "dir"
	Size  uint64    `json:"size"`
	Mtime time.Time `json:"mtime"`
	Mode  uint32    `json:"mode"`
	ID    string    `json:"id"` // the file version's (or folder node's) CID
}

// AddRequest asks the daemon to add files it can read itself.
type AddRequest struct {
	Paths []string `json:"paths"` // absolute local paths
	// ShareWith seals each file added for these accounts (IDs or contact
	// names), as 'peer share --with' does, in the same request: the
	// accounts are looked up before anything is written.
	ShareWith []string `json:"share_with,omitempty"`
}

// AddProgress is a line of an add's streamed answer: progress, or at the
// end the result or an error.
type AddProgress struct {
	Bytes  uint64     `json:"bytes,omitempty"`
	Result *AddResult `json:"result,omitempty"`
	Error  string     `json:"error,omitempty"`
}

// AddResult says what an add changed.
type AddResult struct {
	Files     int      `json:"files"`
	Dirs      int      `json:"dirs"`
	Unchanged int      `json:"unchanged"`
	Bytes     uint64   `json:"bytes"`
	Skipped   []string `json:"skipped,omitempty"` // not regular files or folders
	Added     []Entry  `json:"added"`
	Snapshot  string   `json:"snapshot,omitempty"`
	// SharedWith are the accounts each added file was sealed for (their
	// IDs), with AddRequest.ShareWith.
	SharedWith []string `json:"shared_with,omitempty"`
}

// Snapshot is one state of the account's tree.
type Snapshot struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Device  string    `json:"device"`
	Seq     uint64    `json:"seq"`
	Parents []string  `json:"parents"`
}

// FileVersion is one version of a file.
type FileVersion struct {
	ID     string    `json:"id"`
	Name   string    `json:"name"`
	Time   time.Time `json:"time"`
	Device string    `json:"device"`
	Size   uint64    `json:"size"`
	Mtime  time.Time `json:"mtime"`
	Prev   string    `json:"prev,omitempty"`
}

// Content type of add's streamed answer: one JSON object per line.
const ContentNDJSON = "application/x-ndjson"

// Status describes the account, its last publication and the peers.
type Status struct {
	Account     string   `json:"account"`
	Device      string   `json:"device"`
	Head        string   `json:"head,omitempty"`
	Seq         uint64   `json:"seq,omitempty"` // the head snapshot's
	Devices     []string `json:"devices"`       // devices the account's root lists
	LastPublish *Publish `json:"last_publish,omitempty"`
	PublishErr  string   `json:"publish_error,omitempty"`
	// KeyEpoch is the newest key epoch this device holds: 0 until the
	// account's keys were rotated (a device was removed).
	KeyEpoch uint64 `json:"key_epoch"`
	// KeysErr says why this device cannot read what the account writes
	// now: its keys were rotated without it.
	KeysErr string `json:"keys_error,omitempty"`
	Peers   []Peer `json:"peers"`
	// LAN is the URL of WebDAV on the LAN (lan.listen), if served.
	LAN string `json:"lan,omitempty"`
	// TLSFingerprint is the SHA-256 of the node's certificate, which
	// serves the LAN: compare it with what a client is shown.
	TLSFingerprint string `json:"tls_fingerprint,omitempty"`
}

// Publish is one publication of the account's name.
type Publish struct {
	Time        time.Time `json:"time"`
	Root        string    `json:"root"`
	Seq         uint64    `json:"seq"` // the IPNS record's
	PubsubPeers int       `json:"pubsub_peers"`
	DHTPeers    int       `json:"dht_peers"` // LAN DHT peers known when it was put
	DHT         string    `json:"dht"`       // "ok", or why the DHT did not take it
}

// Resolved is where an account's name points.
type Resolved struct {
	Account string `json:"account"`
	Root    string `json:"root"`
	Seq     uint64 `json:"seq"`
}
