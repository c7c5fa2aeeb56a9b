package donor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/peer"
)

// stateVersion is the version of the stored state's encoding.
const stateVersion = 1

// maxStateBytes bounds a stored state record.
const maxStateBytes = 8 << 20

// held is what the donor keeps of one account, stored (JSON) under
// /account/ID in the donor's datastore.
type held struct {
	V int `json:"v"`
	// Record is the newest valid IPNS record seen of the account (raw),
	// what the donor republishes; Seq and EOL are its.
	Record []byte    `json:"record,omitempty"`
	Seq    uint64    `json:"seq"`
	EOL    time.Time `json:"eol"`
	// Root is the account root whose DAG is held (by the record of
	// RootSeq); Head its head snapshot.
	Root    cid.Cid `json:"root"`
	RootSeq uint64  `json:"root_seq"`
	Head    cid.Cid `json:"head"`
	// Kept lists the snapshots held whole, newest first.
	Kept []kept `json:"kept"`
	// Bytes counts the blocks of the held DAG.
	Bytes int64 `json:"bytes"`
	// Cut says why older history is not held: "", "policy" or "quota".
	Cut string `json:"cut,omitempty"`
	// Refused is a root not taken because its newest snapshot alone is
	// more than the quota allows.
	Refused       cid.Cid   `json:"refused"`
	LastChange    time.Time `json:"last_change"`
	LastRepublish time.Time `json:"last_republish"`
	Err           string    `json:"err,omitempty"`
}

// kept is a snapshot held whole.
type kept struct {
	Snap cid.Cid   `json:"snap"`
	Tree cid.Cid   `json:"tree"`
	At   time.Time `json:"at"` // when the donor took it in
}

func encodeHeld(h *held) ([]byte, error) {
	h.V = stateVersion
	return json.Marshal(h)
}

// parseHeld reads a stored state strictly: known fields only, the
// current version, defined CIDs for every kept snapshot.
func parseHeld(b []byte) (*held, error) {
	if len(b) > maxStateBytes {
		return nil, fmt.Errorf("donor state of %d bytes is over the %d allowed", len(b), maxStateBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var h held
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("failed to parse donor state: %w", err)
	}
	if dec.More() {
		return nil, errors.New("failed to parse donor state: trailing data")
	}
	if h.V != stateVersion {
		return nil, fmt.Errorf("donor state has version %d; this peer reads %d", h.V, stateVersion)
	}
	for _, k := range h.Kept {
		if !k.Snap.Defined() || !k.Tree.Defined() {
			return nil, errors.New("donor state lists a kept snapshot without its CIDs")
		}
	}
	if h.Bytes < 0 {
		return nil, errors.New("donor state has negative bytes")
	}
	return &h, nil
}

func heldKey(id peer.ID) ds.Key { return ds.NewKey("/account/" + id.String()) }

// settings are what 'peer donate' changed on a running daemon, kept
// under /settings; they override the config's.
type settings struct {
	Added      []string `json:"added,omitempty"`   // accounts served besides the config's
	Stopped    []string `json:"stopped,omitempty"` // accounts of the config no longer served
	Quota      *int64   `json:"quota,omitempty"`
	PerAccount *int64   `json:"per_account,omitempty"`
	Open       *bool    `json:"open,omitempty"` // over Config.Open
}

var settingsKey = ds.NewKey("/settings")

func parseSettings(b []byte) (*settings, error) {
	if len(b) > maxStateBytes {
		return nil, errors.New("donor settings are too big")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s settings
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("failed to parse donor settings: %w", err)
	}
	for _, a := range append(append([]string(nil), s.Added...), s.Stopped...) {
		if _, err := peer.Decode(a); err != nil {
			return nil, fmt.Errorf("donor settings name %q, not an account: %w", a, err)
		}
	}
	return &s, nil
}
