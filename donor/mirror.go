package donor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/path"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/announce"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
	"github.com/peer-cloud/peer/vault"
)

// mirror follows one account.
type mirror struct {
	s      *Service
	id     peer.ID
	cancel context.CancelFunc
	done   chan struct{}

	cache     *announce.Cache // announced blocks
	fromCache atomic.Int64    // blocks stored from it, for tests

	mu sync.Mutex
	h  held
}

func (m *mirror) bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.h.Bytes
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// startMirror loads what is held of id and starts following it, unless
// it is followed already.
func (s *Service) startMirror(ctx context.Context, id peer.ID) error {
	m := &mirror{s: s, id: id, done: make(chan struct{}), cache: announce.NewCache(cacheBytes, cacheEntries)}
	b, err := s.cfg.Datastore.Get(ctx, heldKey(id))
	switch {
	case err == nil:
		h, err := parseHeld(b)
		if err != nil {
			return fmt.Errorf("failed to load what the donor holds of %s ('peer donate stop' it and serve it again): %w", vault.AccountID(id), err)
		}
		m.h = *h
	case !errors.Is(err, ds.ErrNotFound):
		return fmt.Errorf("failed to load what the donor holds of %s: %w", vault.AccountID(id), err)
	}
	s.mu.Lock()
	if _, ok := s.mirrors[id]; ok || s.ctx.Err() != nil {
		s.mu.Unlock()
		return nil
	}
	var mctx context.Context
	mctx, m.cancel = context.WithCancel(s.ctx)
	s.mirrors[id] = m
	s.mu.Unlock()
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		defer close(m.done)
		m.run(mctx)
	}()
	go func() {
		defer s.wg.Done()
		m.receive(mctx)
	}()
	return nil
}

// run takes in the account's records: from pubsub as they come, from
// the DHT at start and every CatchUp.
func (m *mirror) run(ctx context.Context) {
	s := m.s
	recs, err := s.cfg.Names.Watch(ctx, m.id)
	if err != nil {
		s.log.Info("following an account through the DHT only", "account", m.id, "err", err)
	}
	// The record held is put again at once: after a restart, the name
	// must not wait for the republish interval.
	m.republish(ctx)
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-recs:
			m.take(ctx, r)
		case <-poll.C:
			if r, err := s.cfg.Names.Resolve(ctx, m.id, 10*time.Second); err == nil {
				m.take(ctx, r)
			}
			poll.Reset(s.cfg.CatchUp)
		}
	}
}

// better reports whether a record (seq, eol) beats the one held: a
// higher sequence, or the same one valid for longer (boxo's rule).
func (h *held) better(seq uint64, eol time.Time) bool {
	if len(h.Record) == 0 || seq != h.Seq {
		return len(h.Record) == 0 || seq > h.Seq
	}
	return eol.After(h.EOL)
}

// take keeps r if it is the newest record seen, and mirrors its root if
// that is newer than the root held.
func (m *mirror) take(ctx context.Context, r namesys.Record) {
	if r.Name != m.id {
		return
	}
	ip, err := path.NewImmutablePath(r.Value)
	if err != nil {
		return
	}
	root := ip.RootCid()
	m.mu.Lock()
	if m.h.better(r.Seq, r.EOL) {
		m.h.Record, m.h.Seq, m.h.EOL = r.Raw, r.Seq, r.EOL
		m.saveLocked(ctx)
	}
	skip := root.Equals(m.h.Root) || root.Equals(m.h.Refused) || (m.h.Root.Defined() && r.Seq <= m.h.RootSeq)
	m.mu.Unlock()
	if skip {
		return
	}
	fctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	if err := m.mirrorRoot(fctx, root, r.Seq); err != nil && ctx.Err() == nil {
		m.s.log.Warn("failed to mirror an account's change", "account", m.id, "root", root, "err", err)
		m.mu.Lock()
		m.h.Err = err.Error()
		m.saveLocked(ctx)
		m.mu.Unlock()
	}
	m.s.notify()
}

func (m *mirror) saveLocked(ctx context.Context) {
	b, err := encodeHeld(&m.h)
	if err == nil {
		err = m.s.cfg.Datastore.Put(ctx, heldKey(m.id), b)
	}
	if err != nil {
		m.s.log.Warn("failed to save what the donor holds", "account", m.id, "err", err)
	}
}

// mirrorRoot fetches the DAG of account root c (by the record of seq):
// the root, the head snapshot's whole tree, then older snapshots as the
// policy and the quota allow, newest first. A head that does not fit
// even once the older history is let go is refused, and the head held
// stays.
func (m *mirror) mirrorRoot(ctx context.Context, c cid.Cid, seq uint64) error {
	s := m.s
	bs := s.cfg.Store.Blockstore()
	unlock := bs.PinLock(ctx)
	defer unlock.Unlock(context.WithoutCancel(ctx))

	m.mu.Lock()
	old := m.h
	m.mu.Unlock()
	budget := s.budget(m, old.Bytes)
	if budget < 0 && !old.Root.Defined() {
		budget = 1
	}
	began := time.Now()
	var gotHead, gotTree time.Time
	pre, err := m.prefill(ctx, c)
	if err != nil {
		return err
	}
	rootBlk, added, err := m.fetchBlock(ctx, c, "root")
	added += pre
	if err != nil {
		return fmt.Errorf("failed to fetch the account root: %w", err)
	}
	vr, err := vault.ReadRoot(ctx, vault.LocalBlocks(bs), rootBlk.Cid())
	if err != nil {
		return err
	}
	now := time.Now()
	next := old
	next.Root, next.RootSeq, next.Head, next.Kept, next.Cut, next.Refused, next.Err = c, seq, vr.Head, nil, "", cid.Undef, ""
	next.LastChange = now
	if vr.Head.Defined() {
		headBlk, n, err := m.fetchBlock(ctx, vr.Head, "snap")
		if err != nil {
			return fmt.Errorf("failed to fetch the head snapshot: %w", err)
		}
		added += n
		tree, parents, err := vault.SnapshotLinks(headBlk.Cid(), headBlk.RawData())
		if err != nil {
			return err
		}
		gotHead = time.Now()
		n, err = m.fetchTree(ctx, tree, trees(old.Kept), budget)
		if errors.Is(err, p2p.ErrTooBig) && len(old.Kept) > 1 {
			// Let the older history go, and try again.
			if err := m.dropTo(ctx, old.Root, old.Kept[:1]); err != nil {
				return err
			}
			m.mu.Lock()
			old = m.h
			m.mu.Unlock()
			n, err = m.fetchTree(ctx, tree, trees(old.Kept), s.budget(m, old.Bytes))
		}
		if errors.Is(err, p2p.ErrTooBig) {
			m.refuse(ctx, c, seq)
			return nil
		}
		if err != nil {
			return err
		}
		added += n
		gotTree = time.Now()
		next.Kept = []kept{{Snap: vr.Head, Tree: tree, At: now}}
		cut, n, err := m.history(ctx, parents, old.Kept, old.Cut == "", &next.Kept, budget-added, now)
		added += n
		next.Cut = cut
		if err != nil {
			next.Err = fmt.Sprintf("older history not all taken: %v", err)
		}
	}
	next.Bytes = old.Bytes + added
	trimmed := false
	if allowed := s.allowed(m); allowed > 0 {
		// Blocks of history let go before may still be local, and were
		// counted as free: count what is kept, and let the oldest go
		// until it fits (never the head).
		for {
			total, err := m.sizeOf(ctx, c, next.Kept)
			if err != nil {
				return err
			}
			next.Bytes = total
			if total <= allowed {
				break
			}
			if len(next.Kept) <= 1 {
				// The head alone is over the quota: blocks an attempt
				// cut short by the quota had in flight were stored
				// still, and a later fetch did not count them.
				m.refuse(ctx, c, seq)
				return nil
			}
			next.Kept = next.Kept[:len(next.Kept)-1]
			next.Cut, trimmed = "quota", true
		}
	}
	let := dropped(old, next) || trimmed
	m.mu.Lock()
	m.h = next
	m.saveLocked(ctx)
	m.mu.Unlock()
	if gotTree.IsZero() {
		gotHead, gotTree = time.Now(), time.Now()
	}
	s.log.Debug("mirrored a root", "account", m.id, "seq", seq, "root and head", gotHead.Sub(began), "tree", gotTree.Sub(gotHead), "history and pins", time.Since(gotTree), "bytes", added)
	s.fetched.Add(added)
	for _, p := range []cid.Cid{c, vr.Head} {
		if p.Defined() {
			if err := s.cfg.Node.Provide(ctx, p); err != nil {
				s.log.Debug("failed to provide", "cid", p, "err", err)
			}
		}
	}
	if let {
		if s.allowed(m) == 0 {
			if err := m.recount(ctx); err != nil {
				return err
			}
		}
		s.gcLater()
	}
	return nil
}

// refuse keeps the head held and notes that root c (record seq) was
// not taken: its newest snapshot alone is over the quota. What was
// fetched of it goes at the next collection.
func (m *mirror) refuse(ctx context.Context, c cid.Cid, seq uint64) {
	m.mu.Lock()
	m.h.Refused = c
	m.h.Err = fmt.Sprintf("the newest snapshot (record %d) does not fit this account's quota: the donor still holds record %d; raise the quota ('peer donate --per-account SIZE') to take it", seq, m.h.RootSeq)
	m.saveLocked(ctx)
	m.mu.Unlock()
	m.s.gcLater()
}

// history walks back from a head's parents, newest first, keeping
// snapshots (appended to out) as the policy and the budget allow. It
// returns why it stopped early ("policy", "quota" or "") and the bytes
// fetched.
//
// old are the snapshots kept before; oldWhole says they are all the
// history below them (it was not cut).
func (m *mirror) history(ctx context.Context, parents []cid.Cid, old []kept, oldWhole bool, out *[]kept, budget int64, now time.Time) (string, int64, error) {
	keep := m.s.cfg.Keep
	oldBy := map[cid.Cid]kept{}
	for _, k := range old {
		oldBy[k.Snap] = k
	}
	seen := map[cid.Cid]bool{(*out)[0].Snap: true}
	queue := append([]cid.Cid(nil), parents...)
	var added int64
	cut := ""
	for len(queue) > 0 && len(*out) < maxHistory {
		if keep.Snapshots > 0 && len(*out) >= keep.Snapshots {
			return "policy", added, nil
		}
		sc := queue[0]
		queue = queue[1:]
		if seen[sc] {
			continue
		}
		seen[sc] = true
		if k, ok := oldBy[sc]; ok {
			if keep.For > 0 && now.Sub(k.At) > keep.For {
				cut = "policy"
				continue
			}
			if keep == (Keep{}) && oldWhole {
				// All history is kept: what was kept below the head
				// is the same, in its order.
				*out = append(*out, k)
				for _, o := range old {
					if !seen[o.Snap] {
						seen[o.Snap] = true
						*out = append(*out, o)
					}
				}
				continue
			}
			*out = append(*out, k)
			b, err := m.s.cfg.Store.Blockstore().Get(ctx, sc)
			if err != nil {
				return cut, added, err
			}
			_, ps, err := vault.SnapshotLinks(sc, b.RawData())
			if err != nil {
				return cut, added, err
			}
			queue = append(queue, ps...)
			continue
		}
		b, n, err := m.fetchBlock(ctx, sc, "snap")
		if err != nil {
			return cut, added, err
		}
		added += n
		tree, ps, err := vault.SnapshotLinks(sc, b.RawData())
		if err != nil {
			return cut, added, err
		}
		left := int64(0)
		if budget != 0 {
			left = budget - added
			if left <= 0 {
				return "quota", added, nil
			}
		}
		n, err = m.fetchTree(ctx, tree, trees(*out), left)
		added += n
		if errors.Is(err, p2p.ErrTooBig) {
			return "quota", added, nil
		}
		if err != nil {
			return cut, added, err
		}
		*out = append(*out, kept{Snap: sc, Tree: tree, At: now})
		queue = append(queue, ps...)
	}
	return cut, added, nil
}

func trees(ks []kept) []cid.Cid {
	out := make([]cid.Cid, 0, len(ks))
	for _, k := range ks {
		out = append(out, k.Tree)
	}
	return out
}

// fetchBlock makes block c local and checks that it is of kind; it
// returns the bytes fetched (0 when it was local).
func (m *mirror) fetchBlock(ctx context.Context, c cid.Cid, kind string) (blocks.Block, int64, error) {
	if err := vault.CheckCID(c); err != nil {
		return nil, 0, err
	}
	bs := m.s.cfg.Store.Blockstore()
	had, err := bs.Has(ctx, c)
	if err != nil {
		return nil, 0, fmt.Errorf("failed to read block %s: %w", c, err)
	}
	if !had {
		none := func(blocks.Block) ([]cid.Cid, error) { return nil, nil }
		if err := m.s.cfg.Node.FetchDAGLimited(ctx, c, p2p.DAGLimits{Links: none}); err != nil {
			return nil, 0, err
		}
	}
	b, err := bs.Get(ctx, c)
	if err != nil {
		return nil, 0, fmt.Errorf("failed to read block %s: %w", c, err)
	}
	if k, err := vault.BlockKind(c, b.RawData()); err != nil || k != kind {
		if err == nil {
			err = fmt.Errorf("block %s is %s, not %s", c, k, kind)
		}
		return nil, 0, err
	}
	if had {
		return b, 0, nil
	}
	return b, int64(len(b.RawData())), nil
}

// fetchTree fetches what tree has and the complete trees lack, at most
// budget bytes (0: no bound); it returns the bytes fetched.
func (m *mirror) fetchTree(ctx context.Context, tree cid.Cid, complete []cid.Cid, budget int64) (int64, error) {
	w := newTreeWalk(ctx, m.s.cfg.Store.Blockstore())
	need, err := w.start(tree, complete)
	if err != nil || !need {
		return 0, err
	}
	if budget < 0 {
		budget = 1
	}
	err = m.s.cfg.Node.FetchDAGLimited(ctx, tree, p2p.DAGLimits{Links: w.links, MaxNewBytes: budget})
	return w.added, err
}

// dropTo keeps only ks (and root) of what is held, for room.
func (m *mirror) dropTo(ctx context.Context, root cid.Cid, ks []kept) error {
	m.mu.Lock()
	next := m.h
	next.Kept = append([]kept(nil), ks...)
	next.Cut = "quota"
	m.mu.Unlock()
	m.mu.Lock()
	m.h = next
	m.mu.Unlock()
	if err := m.recount(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	m.saveLocked(ctx)
	m.mu.Unlock()
	return nil
}
