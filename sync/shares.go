package sync

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/vault"
)

// Shares is the account's following shares (package share): what the
// account root lists of them, learnt from the roots of other devices.
type Shares interface {
	// Learn takes in the shares a root of the account lists, reading
	// their nodes through v. It reports whether root lacks a share this
	// device knows (so a root that went out without it must be
	// followed by one with it).
	Learn(ctx context.Context, v *vault.Vault, r *vault.Root) (lacks bool, err error)
	// RootShares writes the share nodes of an account root for a head
	// whose tree is t (nil: none).
	RootShares(ctx context.Context, v *vault.Vault, t *vault.Tree) ([]cid.Cid, error)
	// PublicIndex writes the root's public index (cid.Undef: none).
	PublicIndex(ctx context.Context, v *vault.Vault) (cid.Cid, error)
}

// bestSeqNow is the highest sequence number seen or published.
func (f *follower) bestSeqNow() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bestSeq
}

// learnShares takes in the shares of a root of the account. When the
// root is the newest record and lacks shares this device knows (another
// device published before it learnt of them), it publishes again, so the
// newest root gives every share.
//
// Fetching the share nodes is bounded by learnTimeout: a share node
// nobody serves (in a donor's old record) must not hold the change up.
// Learning is order-free (shares only grow), so one missed now is taken
// from a later root.
func (n *Service) learnShares(ctx context.Context, r *vault.Root, newest bool) {
	if n.cfg.Shares == nil || r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, learnTimeout)
	defer cancel()
	for i, c := range r.Shares {
		if i >= maxRootShares {
			break
		}
		if err := n.getBlock(ctx, c); err != nil {
			n.log.Debug("failed to fetch a share of the account root", "share", c, "err", err)
		}
	}
	lacks, err := n.cfg.Shares.Learn(ctx, n.acct.Vault(), r)
	if err != nil {
		n.log.Warn("failed to read shares of the account root", "err", err)
	}
	if lacks && newest {
		n.acct.SchedulePublish()
	}
}

// maxRootShares bounds the share nodes fetched from one root, and
// learnTimeout the time it takes.
const (
	maxRootShares = 4096
	learnTimeout  = 5 * time.Second
)

// rootShares is what the root for the current head lists of shares.
func (n *Service) rootShares(ctx context.Context) ([]cid.Cid, error) {
	if n.cfg.Shares == nil {
		return nil, nil
	}
	var t *vault.Tree
	if n.acct.Head() != nil {
		var err error
		if t, err = n.acct.ReadTree(); err != nil {
			return nil, err
		}
	}
	return n.cfg.Shares.RootShares(ctx, n.acct.Vault(), t)
}
