package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
	"github.com/peer-cloud/peer/vault"
)

// The follower takes in the records of the account that other devices
// publish. Anyone may send any valid record again, old ones too (a device
// back from offline publishes a lower sequence number than the others
// have seen, so old-looking records cannot simply be dropped). So that
// replays cost little and never hold a real change up:
//   - records are keyed by the root they name: a root queued, being
//     fetched or taken in is not fetched again, and one that failed is
//     not tried again until its backoff ends;
//   - the queue is bounded and served newest first; fetches run beside
//     the worker, at most maxFetches at once, plus one for any record at
//     least as new as every other seen;
//   - a root not seen to be newest gets a short timeout;
//   - a head is fetched only after its root and its snapshot open, only
//     vault blocks are walked, and no more bytes than the disk can spare.
//
// A record counts as taken in only once its head is integrated; until
// then GC keeps the fetched heads (they are registered as roots), and a
// fetch holds the GC lock while it runs.

// Bounds of the follower.
const (
	maxQueued     = 64
	maxFetches    = 4
	maxRootStates = 1024
	// staleRootTimeout bounds fetching the root of a record older than
	// the newest seen; freshRootTimeout the newest's.
	staleRootTimeout = 15 * time.Second
	freshRootTimeout = time.Minute
	headTimeout      = 10 * time.Minute
	// retryFirst is the first wait before a root that failed is fetched
	// again; it doubles with each failure up to retryMax.
	retryFirst = 30 * time.Second
	retryMax   = 30 * time.Minute
	// gatherFor: heads fetched at about the same time are integrated
	// together, so devices that hear of the same heads in a different
	// order still write the same merge; a fresh fetch younger than this
	// holds integration back.
	gatherFor = 2 * time.Second
	// announceWait is how long a fetch of the newest record waits for
	// the announcement of its blocks when the record came first.
	announceWait = 50 * time.Millisecond
	// diskReserve is the free space a fetch leaves on the repo's disk.
	diskReserve = 512 << 20
)

type rootStatus int

const (
	rootQueued rootStatus = iota
	rootFetching
	rootReady
	rootTaken
	rootFailed
)

// rootState is what the follower knows of one account root.
type rootState struct {
	status   rootStatus
	failures int
	retry    time.Time // rootFailed: not before
	touched  time.Time
}

// job is a record whose root is queued or being fetched.
type job struct {
	r     namesys.Record
	root  cid.Cid
	fresh bool // its sequence was the highest seen when it came
	began time.Time
	vr    *vault.Root // once fetched
	// readyAt is when the fetch ended.
	readyAt time.Time
}

type follower struct {
	n    *Service
	wake chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	roots    map[cid.Cid]*rootState
	queue    []*job // highest sequence first
	fetching []*job
	ready    []*job // fetched, to integrate; their heads are GC roots
	bestSeq  uint64 // the highest sequence number seen or published

	catching atomic.Bool
}

func newFollower(n *Service) *follower {
	return &follower{n: n, wake: make(chan struct{}, 1), roots: map[cid.Cid]*rootState{}}
}

// gcRoots lists the heads fetched and not yet integrated, for GC to keep.
func (f *follower) gcRoots(context.Context) ([]cid.Cid, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []cid.Cid
	for _, j := range f.ready {
		if j.vr != nil && j.vr.Head.Defined() {
			out = append(out, j.vr.Head)
		}
	}
	return out, nil
}

// published notes the sequence of a record this device published.
func (f *follower) published(seq uint64) {
	f.mu.Lock()
	f.bestSeq = max(f.bestSeq, seq)
	f.mu.Unlock()
}

// enqueue takes a record in for fetching, unless its root is known.
func (f *follower) enqueue(r namesys.Record) {
	c, err := RootCID(r)
	if err != nil {
		f.n.log.Debug("ignored a record of the account", "err", err)
		return
	}
	now := time.Now()
	f.mu.Lock()
	fresh := r.Seq >= f.bestSeq
	f.bestSeq = max(f.bestSeq, r.Seq)
	st := f.roots[c]
	if st != nil && (st.status != rootFailed || now.Before(st.retry)) {
		st.touched = now
		f.mu.Unlock()
		return
	}
	if st == nil {
		st = &rootState{}
		f.roots[c] = st
		f.trimRoots()
	}
	st.status, st.touched = rootQueued, now
	j := &job{r: r, root: c, fresh: fresh}
	i, _ := slices.BinarySearchFunc(f.queue, r.Seq, func(q *job, seq uint64) int {
		// Descending by sequence.
		switch {
		case q.r.Seq > seq:
			return -1
		case q.r.Seq < seq:
			return 1
		}
		return 0
	})
	f.queue = slices.Insert(f.queue, i, j)
	if len(f.queue) > maxQueued {
		last := f.queue[len(f.queue)-1]
		f.queue = f.queue[:len(f.queue)-1]
		delete(f.roots, last.root)
	}
	f.mu.Unlock()
	f.poke()
}

func (f *follower) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// trimRoots forgets the roots least recently heard of once there are too
// many; only roots taken in or failed are forgotten.
func (f *follower) trimRoots() {
	for len(f.roots) > maxRootStates {
		var oldest cid.Cid
		var at time.Time
		for c, st := range f.roots {
			if (st.status == rootTaken || st.status == rootFailed) && (!oldest.Defined() || st.touched.Before(at)) {
				oldest, at = c, st.touched
			}
		}
		if !oldest.Defined() {
			return
		}
		delete(f.roots, oldest)
	}
}

// catchUp asks the network for the newest record in the background,
// unless a catch-up is running.
func (f *follower) catchUp(ctx context.Context) {
	if !f.catching.CompareAndSwap(false, true) {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer f.catching.Store(false)
		if r, ok := f.n.catchUp(ctx); ok {
			f.enqueue(r)
		}
	}()
}

// run starts fetches and integrates what they fetched until ctx ends.
func (f *follower) run(ctx context.Context) {
	defer f.wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		case <-timer.C:
		}
		f.dispatch(ctx)
		if wait := f.integrate(ctx); wait > 0 {
			timer.Reset(wait)
		}
	}
}

// dispatch starts fetches for queued records while there is room.
func (f *follower) dispatch(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.queue) > 0 {
		j := f.queue[0]
		// A record as new as any seen always gets a fetch: stale ones
		// cannot fill the slots it needs.
		if len(f.fetching) >= maxFetches && !(j.fresh && j.r.Seq >= f.bestSeq) {
			return
		}
		f.queue = f.queue[1:]
		j.began = time.Now()
		f.roots[j.root].status = rootFetching
		f.fetching = append(f.fetching, j)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.fetch(ctx, j)
		}()
	}
}

// fetch makes a record's root and head local, holding GC off meanwhile.
func (f *follower) fetch(ctx context.Context, j *job) {
	unlock := f.n.store.Blockstore().PinLock(ctx)
	vr, err := f.n.fetch(ctx, j)
	f.mu.Lock()
	f.fetching = slices.DeleteFunc(f.fetching, func(x *job) bool { return x == j })
	st := f.roots[j.root]
	if st == nil { // forgotten meanwhile
		st = &rootState{}
		f.roots[j.root] = st
	}
	if err != nil {
		f.failed(st, err, j)
	} else {
		j.vr, j.readyAt = vr, time.Now()
		st.status = rootReady
		f.ready = append(f.ready, j)
	}
	f.mu.Unlock()
	// The head is a GC root now (ready), so GC may run again.
	unlock.Unlock(ctx)
	f.poke()
}

// failed marks a root as failed and sets when to try it again.
func (f *follower) failed(st *rootState, err error, j *job) {
	st.status = rootFailed
	st.failures++
	wait := retryMax
	if st.failures < 16 {
		wait = min(retryMax, retryFirst<<(st.failures-1))
	}
	st.retry = time.Now().Add(wait)
	if j.fresh && ctxAlive(err) {
		f.n.log.Warn("failed to take in the account's new head", "seq", j.r.Seq, "retry in", wait, "err", err)
	} else {
		f.n.log.Debug("failed to take in a record of the account", "seq", j.r.Seq, "retry in", wait, "err", err)
	}
}

func ctxAlive(err error) bool { return !errors.Is(err, context.Canceled) }

// integrate takes in the fetched heads together, unless a fresh fetch
// that began less than gatherFor ago may add one and the heads have not
// waited gatherFor yet; then it returns how long to wait.
func (f *follower) integrate(ctx context.Context) time.Duration {
	f.mu.Lock()
	if len(f.ready) == 0 {
		f.mu.Unlock()
		return 0
	}
	// The hold ends gatherFor after the first fetched head was ready:
	// while changes keep coming there is always a fresh fetch, and the
	// heads fetched would otherwise wait for the stream to end.
	var hold time.Duration
	waited := time.Since(f.ready[0].readyAt)
	for _, j := range f.fetching {
		if age := time.Since(j.began); j.fresh && age < gatherFor && waited < gatherFor {
			hold = max(hold, min(gatherFor-age, gatherFor-waited))
		}
	}
	js := slices.Clone(f.ready)
	best := f.bestSeq
	f.mu.Unlock()

	var heads []cid.Cid
	var newest *vault.Root
	for _, j := range js {
		if j.vr.Head.Defined() {
			heads = append(heads, j.vr.Head)
		}
		if j.r.Seq >= best {
			newest = j.vr
		}
	}
	// A head that follows all the others and this device's is taken at
	// once: only merges need every device to know the same heads, and
	// taking it first merges the same way later (its ancestors are no
	// heads of the merge).
	if hold > 0 && !f.n.acct.FollowsAll(ctx, heads) {
		return hold
	}
	var err error
	if len(heads) > 0 {
		began := time.Now()
		if err = f.takeIn(ctx, heads); err != nil {
			f.n.log.Warn("failed to take in the account's new heads", "err", err)
		}
		f.n.log.Debug("took in heads", "heads", len(heads), "took", time.Since(began))
	}
	f.mu.Lock()
	f.ready = slices.DeleteFunc(f.ready, func(x *job) bool { return slices.Contains(js, x) })
	for _, j := range js {
		st := f.roots[j.root]
		if st == nil {
			continue
		}
		if err != nil {
			f.failed(st, err, j)
		} else {
			st.status, st.failures = rootTaken, 0
		}
	}
	f.mu.Unlock()
	if err != nil {
		return 0
	}
	// This device's head is not the newest record's: it was ahead, or
	// merged; the network learns of it by a publication.
	if h := f.n.acct.Head(); newest != nil && h != nil && !h.CID.Equals(newest.Head) {
		f.n.schedulePublish()
	}
	return 0
}

// maxMissedFetches bounds the blocks a merge may find missing, and have
// fetched, before it fails.
const maxMissedFetches = 8

// missedTimeout bounds the fetch of a block a merge found missing; the
// follower's loop waits for it.
const missedTimeout = time.Minute

// takeIn integrates heads. A block the fetch's walk left out, which the
// merge then needs, is fetched with what is below it, and the merge
// tried again: the walk skips what it believes complete, and a wrong
// belief should cost a round trip and a warning, not a device stuck on a
// head it never takes in.
func (f *follower) takeIn(ctx context.Context, heads []cid.Cid) error {
	for range maxMissedFetches {
		err := f.n.acct.Integrate(ctx, heads)
		var me *vault.MissingError
		if err == nil || !errors.As(err, &me) {
			return err
		}
		f.n.log.Warn("a merge needs a block the fetch left out: fetching it", "block", me.CID, "what", me.What)
		if ferr := f.n.fetchBelow(ctx, me.CID); ferr != nil {
			return fmt.Errorf("%w (and fetching it failed: %v)", err, ferr)
		}
	}
	return f.n.acct.Integrate(ctx, heads)
}

// fetchBelow makes block c of a tree local with every tree block below
// it.
func (n *Service) fetchBelow(ctx context.Context, c cid.Cid) error {
	if err := vault.CheckCID(c); err != nil {
		return err
	}
	budget, err := fetchBudget(n.cfg.Dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, missedTimeout)
	defer cancel()
	links := func(b blocks.Block) ([]cid.Cid, error) {
		return vault.LinksWithin(b.Cid(), b.RawData(), "dir", "file", "part")
	}
	return n.node.FetchDAGLimited(ctx, c, p2p.DAGLimits{Links: links, MaxNewBytes: budget})
}

// fetch reads the root a job's record names and makes every block of its
// head's history local (each device holds a full copy). The root and the
// head snapshot are opened before anything below them is fetched, so a
// record cannot make the device fetch what is not this account's vault.
func (n *Service) fetch(ctx context.Context, j *job) (*vault.Root, error) {
	timeout := staleRootTimeout
	if j.fresh {
		timeout = freshRootTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	began := time.Now()
	var wait time.Duration
	if j.fresh {
		wait = announceWait
	}
	root, err := n.rootOf(rctx, j.root, wait)
	if err != nil {
		return nil, err
	}
	n.learnDevices(root)
	n.learnKeys(rctx, root)
	n.checkKeys(ctx)
	n.learnShares(rctx, root, j.fresh && j.r.Seq >= n.follow.bestSeqNow())
	if !root.Head.Defined() {
		return root, nil
	}
	ours := n.acct.Head()
	if ours != nil && ours.CID.Equals(root.Head) {
		return root, nil
	}
	budget, err := fetchBudget(n.cfg.Dir)
	if err != nil {
		return nil, err
	}
	// A head that is not local is no ancestor of this device's (each
	// device holds its whole history): what a pull of it brings is needed.
	fctx, cancel := context.WithTimeout(ctx, headTimeout)
	defer cancel()
	pullHead := func(ctx context.Context) int { return n.pull(ctx, root.Head, ours, budget) }
	race, err := n.getOrPull(rctx, fctx, root.Head, pullHead)
	defer race.stop()
	if err != nil {
		return nil, fmt.Errorf("failed to fetch snapshot %s: %w", root.Head, err)
	}
	head, err := n.acct.Vault().OpenSnapshot(rctx, root.Head)
	if err != nil {
		if missing := n.KeysMissing(); missing != nil && errors.Is(err, vault.ErrWrongKey) {
			return nil, fmt.Errorf("failed to open the account's head %s: %w", root.Head, missing)
		}
		return nil, fmt.Errorf("the account root %s does not point at a snapshot of this account: %w", j.root, err)
	}
	if err := n.checkHead(head); err != nil {
		return nil, err
	}
	if ours != nil && head.Seq < ours.Seq {
		// An older record (a replay, or one overtaken by the newest):
		// when its head is history here already, there is nothing to
		// fetch and nothing to merge.
		if ok, err := n.acct.Vault().IsAncestor(rctx, head.CID, ours.CID); err != nil {
			return nil, err
		} else if ok {
			return root, nil
		}
	}
	n.prefill(fctx, root.Head)
	gotHead := time.Now()
	pulled := race.wait()
	// A head pull that brought blocks brought what the head lacks (a
	// second would bring the same); the walk below asks Bitswap for
	// anything else. Walking the new DAG here first to see whether it
	// lacks a block read all 20 000 blocks of 10 000 new small files
	// once more.
	if pulled == 0 && n.lacks(fctx, root.Head, ours) {
		pulled += n.pull(fctx, root.Head, ours, budget)
	}
	walk := newNewWalk(fctx, n.acct.Vault(), n.store.Blockstore(), ours)
	walk.memo = &n.links
	var blocks int
	err = n.node.FetchDAGLimited(fctx, root.Head, p2p.DAGLimits{Links: walk.links, MaxNewBytes: budget, Progress: func(p p2p.Progress) { blocks = p.Blocks }})
	n.log.Debug("fetched a head", "seq", j.r.Seq, "root and snapshot", gotHead.Sub(began), "DAG", time.Since(gotHead), "blocks pulled", pulled, "blocks walked", blocks, "err", err)
	if errors.Is(err, p2p.ErrTooBig) {
		return nil, fmt.Errorf("the account's head %s needs more than the %d bytes free on this disk (keeping %d MiB free): free some space; it is fetched again at the next change or catch-up: %w", root.Head, budget, diskReserve>>20, err)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to fetch snapshot %s: %w", root.Head, err)
	}
	return root, nil
}

// rootOf fetches (if needed) and reads an account root, waiting up to
// wait for an announcement to bring it.
func (n *Service) rootOf(ctx context.Context, c cid.Cid, wait time.Duration) (*vault.Root, error) {
	if err := vault.CheckCID(c); err != nil {
		return nil, fmt.Errorf("the record does not name an account root: %w", err)
	}
	if has, err := n.store.Blockstore().Has(ctx, c); err == nil && !has && wait > 0 {
		// The blocks of a change are announced just before its record,
		// but may be validated after it: Bitswap would take several
		// round trips for what is about to arrive.
		n.cache.Wait(ctx, c, wait)
	}
	n.prefill(ctx, c)
	pullRoot := func(ctx context.Context) int { return n.pull(ctx, c, nil, maxRootPull) }
	race, err := n.getOrPull(ctx, ctx, c, pullRoot)
	race.stop()
	if err != nil {
		return nil, fmt.Errorf("failed to fetch the account root %s: %w", c, err)
	}
	return vault.ReadRoot(ctx, n.acct.Vault().Blocks(), c)
}

// getBlock makes one block local.
func (n *Service) getBlock(ctx context.Context, c cid.Cid) error {
	if err := vault.CheckCID(c); err != nil {
		return err
	}
	_, err := n.node.BlockService().GetBlock(ctx, c)
	return err
}

// fetchBudget is how many bytes a fetch may add to the disk under dir.
func fetchBudget(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("failed to read the free space of %s: %w", dir, err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	return max(1, free-diskReserve), nil
}
