package donor

import (
	"sort"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/vault"
)

// AccountStatus is what the donor holds and knows of one account.
type AccountStatus struct {
	Account string
	// Root and Head are the account root and head snapshot held ("" for
	// none yet), RootSeq the record that named them.
	Root, Head string
	RootSeq    uint64
	// Seq and EOL are of the newest record seen, the one republished.
	Seq           uint64
	EOL           time.Time
	Bytes         int64
	Snapshots     int    // kept whole, the head included
	Cut           string // why older history is not held: "", "policy", "quota"
	Refused       string // a newer root not taken: it does not fit the quota
	LastChange    time.Time
	LastRepublish time.Time
	Err           string
}

// Status is what the donor serves.
type Status struct {
	Quota, PerAccount int64 // 0: no bound
	Open              bool  // it takes accounts that ask
	Used              int64
	Keep              Keep
	Fetched           int64 // bytes fetched since start
	Accounts          []AccountStatus
}

// Status reports what the donor serves and holds.
func (s *Service) Status() Status {
	quota, per := s.limits()
	out := Status{Quota: quota, PerAccount: per, Open: s.open(), Keep: s.cfg.Keep, Fetched: s.Fetched()}
	for _, m := range s.mirrorList() {
		m.mu.Lock()
		h := m.h
		m.mu.Unlock()
		a := AccountStatus{Account: vault.AccountID(m.id), RootSeq: h.RootSeq, Seq: h.Seq, EOL: h.EOL, Bytes: h.Bytes,
			Snapshots: len(h.Kept), Cut: h.Cut, LastChange: h.LastChange, LastRepublish: h.LastRepublish, Err: h.Err}
		if h.Root.Defined() {
			a.Root = h.Root.String()
		}
		if h.Head.Defined() {
			a.Head = h.Head.String()
		}
		if h.Refused.Defined() {
			a.Refused = h.Refused.String()
		}
		out.Used += h.Bytes
		out.Accounts = append(out.Accounts, a)
	}
	sort.Slice(out.Accounts, func(i, j int) bool { return out.Accounts[i].Account < out.Accounts[j].Account })
	return out
}

// Held reports the account root and head the donor holds of account id,
// and the record's sequence that named them (ok false: it does not serve
// the account, or holds nothing of it yet).
func (s *Service) Held(id peer.ID) (root, head cid.Cid, seq uint64, ok bool) {
	for _, m := range s.mirrorList() {
		if m.id != id {
			continue
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.h.Root, m.h.Head, m.h.RootSeq, m.h.Root.Defined()
	}
	return cid.Undef, cid.Undef, 0, false
}
