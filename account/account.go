// Package account holds this device's side of the account: its keys, its
// head snapshot, and the tree changes are made on, one change at a time.
// Blocks a change writes are recorded, so the account's other devices can
// be sent them with the change's announcement.
package account

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

// Account is this device's side of the vault: the account's keys, its head
// snapshot and the tree that changes are made on. One change runs at a
// time; reads open the head's tree afresh and never wait for a change.
type Account struct {
	repo    *repo.Repo // where the key epochs are kept
	epochMu sync.Mutex // serialises writes of epochs.key
	acct    *vault.Account
	v       *vault.Vault
	ds      ds.Datastore
	locker  bstore.GCLocker
	log     *slog.Logger

	mu   sync.Mutex // serialises changes; guards tree
	tree *vault.Tree

	headMu sync.RWMutex
	head   *vault.Snapshot // nil before the first change

	cert    []byte        // this device's certificate
	changed chan struct{} // a new head to publish (coalesces bursts)

	watchMu  sync.Mutex
	watchers map[chan struct{}]struct{} // told of every new head

	rec       *recorder
	announceM sync.Mutex
	announce  []blocks.Block // new blocks since the last publication
	overflow  bool           // some change was too big to announce

	stats counters // Stats
	held  held     // Hold
}

// TakeAnnounce returns the blocks to announce with the next publication,
// or nil when a change since the last one was too big to announce.
func (a *Account) TakeAnnounce() []blocks.Block {
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
func (a *Account) recorded(bs []blocks.Block, ok bool) {
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
	if size > MaxAnnounceBytes || len(a.announce) >= MaxAnnounceBlocks {
		a.overflow, a.announce = true, nil
	}
}

// Open loads the repo's account (making one for a repo from before
// accounts), certifies this device, and opens the head.
func Open(ctx context.Context, r *repo.Repo, store *blockstore.Store, log *slog.Logger) (*Account, error) {
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
	eb, err := r.ReadEpochs()
	if err != nil {
		return nil, err
	}
	es, err := vault.ParseEpochs(eb)
	if err != nil {
		return nil, fmt.Errorf("failed to load %s (the file is damaged; restore it from a backup, or give the newest recovery key to 'peer account recover-key'): %w", repo.EpochsFile, err)
	}
	if _, err := acct.AddEpochs(es...); err != nil {
		return nil, err
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
	a := &Account{
		rec:      rec,
		cert:     cert,
		changed:  make(chan struct{}, 1),
		watchers: map[chan struct{}]struct{}{},
		acct:     acct,
		repo:     r,
		v:        vault.New(acct, rec, opts...),
		ds:       store.Namespace("vault"),
		locker:   store.Blockstore(),
		log:      log,
	}
	head, err := StoredHead(ctx, store)
	if err != nil {
		return nil, err
	}
	if !head.Defined() {
		if a.tree, err = a.v.NewTree(); err != nil {
			return nil, err
		}
	} else {
		if a.head, err = a.v.OpenSnapshot(ctx, head); err != nil {
			return nil, fmt.Errorf("failed to open the account's head snapshot: %w", err)
		}
		a.tree = a.head.OpenTree(a.v)
	}
	store.AddRoots(func(context.Context) ([]cid.Cid, error) {
		roots := a.held.list()
		if h := a.Head(); h != nil {
			roots = append(roots, h.CID)
		}
		return roots, nil
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

// AddEpochs adds key epochs to the account's keys and keeps them in the
// repo (epochs.key, 0600) before it returns: what is sealed under one must
// never outlive the only copy of its secret in memory. It reports whether
// any was new.
func (a *Account) AddEpochs(es ...vault.Epoch) (bool, error) {
	a.epochMu.Lock()
	defer a.epochMu.Unlock()
	known := a.acct.Epochs()
	all := slices.Clone(known)
	for _, e := range es {
		if e.N == 0 {
			return false, errors.New("failed to add a key epoch: epoch 0 is the root secret's")
		}
		if !slices.Contains(all, e) {
			all = append(all, e)
		}
	}
	if len(all) == len(known) {
		return false, nil
	}
	if err := a.saveEpochs(all); err != nil {
		return false, err
	}
	return a.acct.AddEpochs(all...)
}

// NewEpoch rotates the account's keys: a new epoch, kept in the repo,
// that what is written from now on is sealed under.
func (a *Account) NewEpoch() (vault.Epoch, error) {
	a.epochMu.Lock()
	defer a.epochMu.Unlock()
	e := vault.Epoch{N: a.acct.Epoch().N + 1}
	if _, err := rand.Read(e.Secret[:]); err != nil {
		return e, fmt.Errorf("failed to make a key epoch: %w", err)
	}
	// On disk before anything is sealed under it.
	if err := a.saveEpochs(append(a.acct.Epochs(), e)); err != nil {
		return vault.Epoch{}, err
	}
	_, err := a.acct.AddEpochs(e)
	return e, err
}

func (a *Account) saveEpochs(es []vault.Epoch) error {
	if err := a.repo.WriteEpochs(vault.MarshalEpochs(es)); err != nil {
		return fmt.Errorf("failed to keep the account's key epochs: %w", err)
	}
	return nil
}

// Keys returns the account's keys.
func (a *Account) Keys() *vault.Account { return a.acct }

// Vault returns the vault the account's blocks are read and written
// through.
func (a *Account) Vault() *vault.Vault { return a.v }

// Cert returns this device's certificate.
func (a *Account) Cert() []byte { return a.cert }

// Head returns the head snapshot, nil before the first change.
func (a *Account) Head() *vault.Snapshot {
	a.headMu.RLock()
	defer a.headMu.RUnlock()
	return a.head
}

// ReadTree opens the head's tree for reading, apart from the change tree.
func (a *Account) ReadTree() (*vault.Tree, error) {
	h := a.Head()
	if h == nil {
		return a.v.NewTree()
	}
	return h.OpenTree(a.v), nil
}

// Change runs fn on the tree and commits what it changed as one snapshot.
// When fn fails, its changes are dropped, unless keep says what it did
// before failing is worth keeping (an add of many files).
func (a *Account) Change(ctx context.Context, keep bool, fn func(ctx context.Context, t *vault.Tree) error) (*vault.Snapshot, error) {
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
	var drop *dropError
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
		if err == nil {
			a.stats.commits.Add(1)
		}
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

// Drop wraps err so that Change drops the change's work even when keep
// asks to keep what was done before the failure.
func Drop(err error) error { return &dropError{err} }

type dropError struct{ err error }

func (d *dropError) Error() string { return d.err.Error() }
func (d *dropError) Unwrap() error { return d.err }

// saveHead records s as the head, durably, before anyone sees it.
func (a *Account) saveHead(ctx context.Context, s *vault.Snapshot, publish bool) error {
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
		a.SchedulePublish()
	}
	a.watchMu.Lock()
	for ch := range a.watchers {
		select {
		case ch <- struct{}{}:
		default: // already told; it reads Head when it looks
		}
	}
	a.watchMu.Unlock()
	return nil
}

// ToPublish receives when a change or merge made a head the account's
// name should point at. A burst of changes makes one receive: read Head
// then.
func (a *Account) ToPublish() <-chan struct{} { return a.changed }

// SchedulePublish asks for the current head to be published again.
func (a *Account) SchedulePublish() {
	select {
	case a.changed <- struct{}{}:
	default: // a publication is already due; it will carry this head
	}
}

// Watch returns a channel that receives after every new head, this
// device's or taken from another (a burst makes one receive: read Head
// then), and a function that stops the watch.
func (a *Account) Watch() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	a.watchMu.Lock()
	a.watchers[ch] = struct{}{}
	a.watchMu.Unlock()
	return ch, func() {
		a.watchMu.Lock()
		delete(a.watchers, ch)
		a.watchMu.Unlock()
	}
}

// Integrate takes in heads written by other devices of the account, whose
// blocks are local, together with this device's own: when one of them
// descends from all the others it becomes the head; otherwise they are
// merged (vault.MergeAll), the same way on every device that knows them.
func (a *Account) Integrate(ctx context.Context, theirs []cid.Cid) error {
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
		a.stats.merges.Add(1)
		a.log.Info("merged diverged heads", "heads", len(heads), "merged", m.CID, "took", time.Since(began))
	} else {
		a.stats.taken.Add(1)
		a.log.Info("took another device's head", "snapshot", m.CID, "seq", m.Seq, "took", time.Since(began))
	}
	return nil
}

// FollowsAll reports whether one of theirs descends from all the others
// and from this device's head, so that taking them in needs no merge.
func (a *Account) FollowsAll(ctx context.Context, theirs []cid.Cid) bool {
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
func (a *Account) reopen() {
	if h := a.Head(); h != nil {
		a.tree = h.OpenTree(a.v)
		return
	}
	if t, err := a.v.NewTree(); err == nil {
		a.tree = t
	}
}

// StoredHead reads the account's head CID as Open does, without
// opening the snapshot (its block may be the damaged one); cid.Undef
// before the first change.
func StoredHead(ctx context.Context, store *blockstore.Store) (cid.Cid, error) {
	b, err := store.Namespace("vault").Get(ctx, headKey)
	if errors.Is(err, ds.ErrNotFound) {
		return cid.Undef, nil
	}
	if err != nil {
		return cid.Undef, fmt.Errorf("failed to read the account's head: %w", err)
	}
	c, err := cid.Cast(b)
	if err != nil {
		return cid.Undef, fmt.Errorf("failed to read the account's head (the record is damaged; restore the repo from a backup): %w", err)
	}
	return c, nil
}
