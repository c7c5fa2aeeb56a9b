package daemon

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

// headKey is where the account's head snapshot CID is kept, in the
// "vault" namespace of the datastore.
var headKey = ds.NewKey("/head")

// account is the daemon's side of the vault: the account's keys, its head
// snapshot and the tree that changes are made on. One change runs at a
// time; reads open the head's tree afresh and never wait for a change.
type account struct {
	acct   *vault.Account
	v      *vault.Vault
	ds     ds.Datastore
	locker bstore.GCLocker
	log    *slog.Logger

	mu   sync.Mutex // serialises changes; guards tree
	tree *vault.Tree

	headMu sync.RWMutex
	head   *vault.Snapshot // nil before the first change

	cert    []byte        // this device's certificate
	changed chan struct{} // a new head to publish (coalesces bursts)

	rec       *recorder
	announceM sync.Mutex
	announce  []blocks.Block // new blocks since the last publication
	overflow  bool           // some change was too big to announce
}

// takeAnnounce returns the blocks to announce with the next publication,
// or nil when a change since the last one was too big to announce.
func (a *account) takeAnnounce() []blocks.Block {
	a.announceM.Lock()
	defer a.announceM.Unlock()
	out := a.announce
	if a.overflow {
		out = nil
	}
	a.announce, a.overflow = nil, false
	return out
}

// recorded adds a change's blocks to the next announcement; ok false
// means the change was too big to announce.
func (a *account) recorded(bs []blocks.Block, ok bool) {
	a.announceM.Lock()
	defer a.announceM.Unlock()
	if !ok || a.overflow {
		a.overflow, a.announce = true, nil
		return
	}
	a.announce = append(a.announce, bs...)
	size := 0
	for _, b := range a.announce {
		size += len(b.RawData())
	}
	if size > maxAnnounce || len(a.announce) >= maxAnnounceBlocks {
		a.overflow, a.announce = true, nil
	}
}

// openAccount loads the repo's account (making one for a repo from before
// accounts), certifies this device, and opens the head.
func openAccount(ctx context.Context, r *repo.Repo, store *blockstore.Store, log *slog.Logger) (*account, error) {
	if r.AccountSecret == nil {
		a, err := vault.NewAccount(rand.Reader)
		if err != nil {
			return nil, err
		}
		if err := r.WriteAccount(a.Secret()); err != nil {
			return nil, err
		}
		log.Warn("this repo had no account; made one. Write down its recovery phrase: 'peer account phrase'", "account", a.ID())
	}
	acct, err := vault.AccountFromSecret(r.AccountSecret)
	if err != nil {
		return nil, fmt.Errorf("failed to load %s (restore it with 'peer init --recover' in a new repo): %w", repo.AccountFile, err)
	}
	device := r.PeerID()
	if err := ensureCert(r, acct, device); err != nil {
		return nil, err
	}
	opts := []vault.Option{vault.WithDevice(device.String())}
	if store.Profile() == blockstore.ProfilePi {
		opts = append(opts, vault.WithBatchBytes(4<<20))
	}
	cert, err := r.ReadCert()
	if err != nil {
		return nil, err
	}
	rec := &recorder{Blocks: vault.LocalBlocks(store.Blockstore())}
	a := &account{
		rec:     rec,
		cert:    cert,
		changed: make(chan struct{}, 1),
		acct:    acct,
		v:       vault.New(acct, rec, opts...),
		ds:      store.Namespace("vault"),
		locker:  store.Blockstore(),
		log:     log,
	}
	b, err := a.ds.Get(ctx, headKey)
	switch {
	case errors.Is(err, ds.ErrNotFound):
		if a.tree, err = a.v.NewTree(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("failed to read the account's head: %w", err)
	default:
		c, err := cid.Cast(b)
		if err != nil {
			return nil, fmt.Errorf("failed to read the account's head (the record is damaged): %w", err)
		}
		if a.head, err = a.v.OpenSnapshot(ctx, c); err != nil {
			return nil, fmt.Errorf("failed to open the account's head snapshot: %w", err)
		}
		a.tree = a.head.OpenTree(a.v)
	}
	store.AddRoots(func(context.Context) ([]cid.Cid, error) {
		if h := a.Head(); h != nil {
			return []cid.Cid{h.CID}, nil
		}
		return nil, nil
	})
	return a, nil
}

// ensureCert writes a device certificate for device unless a valid one
// for this account and device is there.
func ensureCert(r *repo.Repo, acct *vault.Account, device peer.ID) error {
	b, err := r.ReadCert()
	if err != nil {
		return err
	}
	if b != nil {
		if c, err := vault.ParseDeviceCert(b); err == nil && c.Account == acct.PeerID() && c.Device == device {
			return nil
		}
	}
	name, _ := os.Hostname()
	c, err := acct.CertifyDevice(device, name, time.Now().UnixNano())
	if err != nil {
		return err
	}
	if b, err = c.Marshal(); err != nil {
		return err
	}
	return r.WriteCert(b)
}

// Head returns the head snapshot, nil before the first change.
func (a *account) Head() *vault.Snapshot {
	a.headMu.RLock()
	defer a.headMu.RUnlock()
	return a.head
}

// readTree opens the head's tree for reading, apart from the change tree.
func (a *account) readTree() (*vault.Tree, error) {
	h := a.Head()
	if h == nil {
		return a.v.NewTree()
	}
	return h.OpenTree(a.v), nil
}

// change runs fn on the tree and commits what it changed as one snapshot.
// When fn fails, its changes are dropped, unless keep says what it did
// before failing is worth keeping (an add of many files).
func (a *account) change(ctx context.Context, keep bool, fn func(ctx context.Context, t *vault.Tree) error) (*vault.Snapshot, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	// Blocks written from here to the new head are not reachable from any
	// root yet: hold GC off until the head names them.
	unlock := a.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)
	began := time.Now()
	a.rec.start()
	stopped := false
	stopRecording := func(announce bool) {
		if !stopped {
			stopped = true
			if bs, ok := a.rec.stop(); announce {
				a.recorded(bs, ok)
			}
		}
	}
	defer stopRecording(false) // a change dropped is nobody's to fetch
	ferr := fn(ctx, a.tree)
	changed := time.Since(began)
	var drop *dropChanges
	if ferr != nil && (!keep || errors.As(ferr, &drop)) {
		a.reopen()
		return nil, ferr
	}
	if !a.tree.Dirty() {
		return a.Head(), ferr
	}
	var parents []*vault.Snapshot
	if h := a.Head(); h != nil {
		parents = append(parents, h)
	}
	s, err := a.v.Commit(ctx, a.tree, parents...)
	if err == nil {
		// Before the head is saved: saving it wakes the publication,
		// which announces what was recorded by then (recorded after, a
		// change's blocks went out with the next change instead, and
		// the other devices fetched them block by block).
		stopRecording(true)
		err = a.saveHead(ctx, s, true)
		a.log.Debug("committed", "change", changed, "commit and sync", time.Since(began)-changed)
	}
	// Start the next change from the stored head: the tree would
	// otherwise keep every folder it ever loaded in memory.
	a.reopen()
	if err != nil {
		return nil, errors.Join(ferr, err)
	}
	return s, ferr
}

// dropChanges is an error after which a change must not be committed
// even when its partial work is usually kept.
type dropChanges struct{ err error }

func (d *dropChanges) Error() string { return d.err.Error() }
func (d *dropChanges) Unwrap() error { return d.err }

// saveHead records s as the head, durably, before anyone sees it.
func (a *account) saveHead(ctx context.Context, s *vault.Snapshot, publish bool) error {
	if err := a.ds.Put(ctx, headKey, s.CID.Bytes()); err != nil {
		return fmt.Errorf("failed to save the account's head: %w", err)
	}
	if err := a.ds.Sync(ctx, headKey); err != nil {
		return fmt.Errorf("failed to save the account's head: %w", err)
	}
	a.headMu.Lock()
	a.head = s
	a.headMu.Unlock()
	a.log.Debug("new head", "snapshot", s.CID, "seq", s.Seq)
	if publish {
		select {
		case a.changed <- struct{}{}:
		default: // a publication is already due; it will carry this head
		}
	}
	return nil
}

// integrate takes in heads written by other devices of the account, whose
// blocks are local, together with this device's own: when one of them
// descends from all the others it becomes the head; otherwise they are
// merged (vault.MergeAll), the same way on every device that knows them.
func (a *account) integrate(ctx context.Context, theirs []cid.Cid) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	unlock := a.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)
	began := time.Now()
	var heads []*vault.Snapshot
	ours := a.Head()
	if ours != nil {
		heads = append(heads, ours)
	}
	for _, c := range theirs {
		s, err := a.v.OpenSnapshot(ctx, c)
		if err != nil {
			return err
		}
		heads = append(heads, s)
	}
	if len(heads) == 0 {
		return nil
	}
	a.rec.start()
	m, err := a.v.MergeAll(ctx, heads)
	bs, ok := a.rec.stop()
	if err != nil {
		return fmt.Errorf("failed to merge the account's heads: %w", err)
	}
	if ours != nil && m.CID.Equals(ours.CID) {
		return nil // ours already holds everything
	}
	merged := !slices.ContainsFunc(heads, func(h *vault.Snapshot) bool { return h.CID.Equals(m.CID) })
	if merged {
		a.recorded(bs, ok)
	}
	if err := a.saveHead(ctx, m, merged); err != nil {
		return err
	}
	a.reopen()
	if merged {
		a.log.Info("merged diverged heads", "heads", len(heads), "merged", m.CID, "took", time.Since(began))
	} else {
		a.log.Info("took another device's head", "snapshot", m.CID, "seq", m.Seq, "took", time.Since(began))
	}
	return nil
}

// followsAll reports whether one of theirs descends from all the others
// and from this device's head, so that taking them in needs no merge.
func (a *account) followsAll(ctx context.Context, theirs []cid.Cid) bool {
	heads := slices.Clone(theirs)
	if h := a.Head(); h != nil {
		heads = append(heads, h.CID)
	}
	for _, top := range heads {
		all := true
		for _, h := range heads {
			if ok, err := a.v.IsAncestor(ctx, h, top); err != nil || !ok {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// reopen drops the tree's unsaved changes.
func (a *account) reopen() {
	if h := a.Head(); h != nil {
		a.tree = h.OpenTree(a.v)
		return
	}
	if t, err := a.v.NewTree(); err == nil {
		a.tree = t
	}
}
