package account

import "sync/atomic"

// Stats counts the account's new heads since the daemon started.
type Stats struct {
	// Commits are changes made on this device that became the head.
	Commits uint64
	// Merges are heads made by merging this device's head with other
	// devices' heads that had diverged from it.
	Merges uint64
	// Taken are other devices' heads taken as they were, since they
	// already held everything this device's head did.
	Taken uint64
	// HeadSeq is the head snapshot's sequence number, 0 before the first
	// change.
	HeadSeq uint64
}

// counters are an Account's Stats, kept apart from its locks so that
// reading them never waits for a change.
type counters struct {
	commits, merges, taken atomic.Uint64
}

// Stats returns the account's counters and head sequence number. It
// takes no lock a change holds.
func (a *Account) Stats() Stats {
	st := Stats{Commits: a.stats.commits.Load(), Merges: a.stats.merges.Load(), Taken: a.stats.taken.Load()}
	if h := a.Head(); h != nil {
		st.HeadSeq = h.Seq
	}
	return st
}
