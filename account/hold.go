package account

import (
	"context"
	"sync"

	cid "github.com/ipfs/go-cid"
)

// held are roots kept from GC besides the head: content written before
// the change that names it.
type held struct {
	mu    sync.Mutex
	roots map[cid.Cid]int
}

func (h *held) add(c cid.Cid) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.roots == nil {
		h.roots = map[cid.Cid]int{}
	}
	h.roots[c]++
}

func (h *held) drop(c cid.Cid) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.roots[c]--; h.roots[c] <= 0 {
		delete(h.roots, c)
	}
}

func (h *held) list() []cid.Cid {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]cid.Cid, 0, len(h.roots))
	for c := range h.roots {
		out = append(out, c)
	}
	return out
}

// Hold keeps the DAG under c from GC until release is called: a file
// version written for a change that names it later. release may be
// called more than once.
func (a *Account) Hold(c cid.Cid) (release func()) {
	a.held.add(c)
	var once sync.Once
	return func() { once.Do(func() { a.held.drop(c) }) }
}

// Prepare runs write, which stores blocks that a later Change names (a
// big file's content, written outside the change so that it holds no
// other change up), with GC held off, and then holds the root write
// returned (see Hold) until release is called, after that change.
func (a *Account) Prepare(ctx context.Context, write func(ctx context.Context) (cid.Cid, error)) (release func(), err error) {
	unlock := a.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)
	c, err := write(ctx)
	if err != nil || !c.Defined() {
		return func() {}, err
	}
	return a.Hold(c), nil
}
