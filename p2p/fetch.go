package p2p

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/blockservice"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
)

// Progress reports how far a fetch has come.
type Progress struct {
	// Blocks and Bytes count the blocks received (or found locally).
	Blocks int
	Bytes  int64
}

// window keeps up to size requests in flight. Requests go out in batches,
// so one wantlist message carries many wants, and blocks arrive on one
// channel in whatever order peers send them.
//
// Each batch is its own Bitswap session. A session sends want-blocks to the
// peer that answered it first, more so the more it answered ("rich get
// richer"), so one long session pulls a whole file from one peer. A fresh
// session starts with a want-have to every connected peer, so each batch
// may go to a different holder. In practice the first to answer still tends
// to win most batches (splits of 65/0 to 26/7 between two holders were
// measured); spreading a fetch evenly needs our own want assignment. The
// cost is a want-have round trip per batch, pipelined behind the others.
type window struct {
	ctx     context.Context
	bs      blockservice.BlockService
	size    int
	pending int
	recv    chan blocks.Block
	wg      sync.WaitGroup
	// last is when any batch last received a block (UnixNano).
	last atomic.Int64
}

func newWindow(ctx context.Context, bs blockservice.BlockService, size int) *window {
	w := &window{
		ctx:  ctx,
		bs:   bs,
		size: size,
		recv: make(chan blocks.Block, size),
	}
	w.last.Store(time.Now().UnixNano())
	return w
}

// batch is the most keys one request (one session) carries: an eighth of
// the window, so several sessions are in flight at once and each may pick
// a different peer.
func (w *window) batch() int { return max(4, w.size/8) }

// free is how many keys may be requested now: a whole batch, or nothing
// until the window has room for one (or the window is empty).
func (w *window) free() int {
	f := min(w.size-w.pending, w.batch())
	if w.pending > 0 && f < w.batch() {
		return 0
	}
	return f
}

// stallTimeout is how long a batch may go without a block, while no other
// batch of its window gets one either, before its session is dropped and
// the missing keys are asked for in a new one.
const stallTimeout = 5 * time.Second

// idle returns how long the window has gone without a block.
func (w *window) idle() time.Duration {
	return time.Since(time.Unix(0, w.last.Load()))
}

func (w *window) request(ks []cid.Cid) {
	if len(ks) == 0 {
		return
	}
	w.pending += len(ks)
	ks = append([]cid.Cid(nil), ks...)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.fetchBatch(ks)
	}()
}

// fetchBatch gets ks through one Bitswap session, and through a fresh one
// for what is still missing whenever the whole window got no block for
// stallTimeout. A session can wait on a peer that will never answer: one
// that restarted mid-transfer forgets the wants of the old connection, and
// the session does not ask it again for minutes (measured: a 64 MiB stream
// stalled ~40 s after its source was killed and restarted). A new session
// asks every connected peer afresh.
//
// While other batches receive blocks, a batch without any is queued behind
// them, not stalled: a peer serves the window's wants roughly in the order
// they came, and on a slow link the last batch waits for all the bytes
// before it (64 MiB at 100 Mbit/s take 5.4 s). Asking such a batch again
// only makes its blocks come twice (measured: 6 of 65 blocks twice at 100
// Mbit/s, 4 of 25 at 10 Mbit/s). Its turn comes as the others finish, or
// the whole window stalls and every batch asks again.
func (w *window) fetchBatch(ks []cid.Cid) {
	missing := cid.NewSet()
	for _, k := range ks {
		missing.Add(k)
	}
	timer := time.NewTimer(stallTimeout)
	defer timer.Stop()
	for missing.Len() > 0 {
		ctx, cancel := context.WithCancel(w.ctx)
		ch := w.bs.GetBlocks(ctx, missing.Keys())
		timer.Reset(stallTimeout)
		closed := false
	session:
		for {
			select {
			case b, ok := <-ch:
				if !ok {
					closed = true
					break session
				}
				if !missing.Has(b.Cid()) {
					continue
				}
				missing.Remove(b.Cid())
				w.last.Store(time.Now().UnixNano())
				select {
				case w.recv <- b:
				case <-w.ctx.Done():
					cancel()
					return
				}
				timer.Reset(stallTimeout)
			case <-timer.C:
				if idle := w.idle(); idle < stallTimeout {
					// Others are receiving: wait until the window
					// itself has gone stallTimeout without a block.
					timer.Reset(stallTimeout - idle)
					continue
				}
				break session // stalled: ask again in a new session
			case <-w.ctx.Done():
				cancel()
				return
			}
		}
		cancel()
		if closed && missing.Len() > 0 {
			// The exchange gave up on the session (it is closing, say):
			// wait before the next, so this does not spin.
			timer.Reset(stallTimeout)
			select {
			case <-timer.C:
			case <-w.ctx.Done():
				return
			}
		}
	}
}

// next waits for the next block.
func (w *window) next() (blocks.Block, error) {
	select {
	case b := <-w.recv:
		w.pending--
		return b, nil
	case <-w.ctx.Done():
		return nil, w.ctx.Err()
	}
}

// FetchOrdered fetches the blocks named by keys, in that order, with up to
// the fetch window of them requested ahead, and calls fn on each in order.
// It is for reading a file whose block list is known: the wants go out as
// soon as the keys are known, not one block at a time. keys must be closed
// by the sender; FetchOrdered returns when it is drained or on the first
// error.
func (n *Node) FetchOrdered(ctx context.Context, keys <-chan cid.Cid, fn func(blocks.Block) error) error {
	ctx, cancel := context.WithCancel(ctx)
	w := newWindow(ctx, n.bserv, n.window)
	defer func() { cancel(); w.wg.Wait() }()

	// Blocks are matched by multihash: a block store keys by multihash, so
	// a CIDv0 request may be answered under its CIDv1.
	var order []cid.Cid              // requested, in order, not yet delivered
	got := map[string]blocks.Block{} // received, waiting for their turn
	wanted := map[string]int{}       // how often each key is in order
	open := true
	var batch []cid.Cid
	for open || len(order) > 0 {
		// Request as many new keys as fit, a batch at a time, blocking
		// only when idle.
	fill:
		for open && len(order) < n.window {
			room := min(w.free(), n.window-len(order))
			if room == 0 {
				break
			}
			batch = batch[:0]
			for len(batch) < room {
				var k cid.Cid
				var ok bool
				if len(order) == 0 {
					select {
					case k, ok = <-keys:
					case <-ctx.Done():
						return ctx.Err()
					}
				} else {
					select {
					case k, ok = <-keys:
					default:
						w.request(batch)
						break fill
					}
				}
				if !ok {
					open = false
					break
				}
				order = append(order, k)
				h := string(k.Hash())
				if wanted[h] == 0 && got[h] == nil {
					batch = append(batch, k)
				}
				wanted[h]++
			}
			w.request(batch)
		}
		// Deliver what is ready, in order.
		for len(order) > 0 {
			h := string(order[0].Hash())
			b := got[h]
			if b == nil {
				break
			}
			if err := fn(b); err != nil {
				return err
			}
			order = order[1:]
			if wanted[h]--; wanted[h] == 0 {
				delete(wanted, h)
				delete(got, h)
			}
		}
		if len(order) > 0 {
			b, err := w.next()
			if err != nil {
				return fmt.Errorf("failed to fetch block %s: %w", order[0], err)
			}
			got[string(b.Cid().Hash())] = b
		}
	}
	return nil
}
