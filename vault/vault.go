package vault

import (
	"crypto/rand"
	"io"
	"runtime"
	"sync"
	"time"
)

// Vault reads and writes one account's objects in a block store.
type Vault struct {
	acct    *Account
	blocks  Blocks
	rand    io.Reader
	now     func() time.Time
	device  string
	workers int
	batch   int
	fanout  int // links per file or part node; smaller in tests
	// rawDirs seals folder nodes under their folder keys, whatever the
	// key epoch: for shared copies, which recipients open with that key.
	rawDirs bool
	// bufs recycles chunk buffers (ChunkMax+16 bytes): fresh memory for
	// every chunk costs page faults and GC cycles. Shared with the vaults
	// WithBlocks derives.
	bufs *sync.Pool
	// dirs keeps folder nodes opened lately; shared too.
	dirs *dirCache
}

func (v *Vault) getBuf() []byte {
	if b, ok := v.bufs.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, ChunkMax+16)
}

func (v *Vault) putBuf(b []byte) {
	if cap(b) == ChunkMax+16 {
		b = b[:0]
		v.bufs.Put(&b)
	}
}

// Option changes how a Vault works.
type Option func(*Vault)

// WithRand sets the source of nonces and new directory keys (tests use a
// fixed stream to reproduce test vectors).
func WithRand(r io.Reader) Option { return func(v *Vault) { v.rand = r } }

// WithClock sets the clock for version and snapshot times.
func WithClock(now func() time.Time) Option { return func(v *Vault) { v.now = now } }

// WithDevice names the device (its peer ID) in the versions and snapshots
// it writes.
func WithDevice(id string) Option { return func(v *Vault) { v.device = id } }

// WithWorkers sets how many chunks are hashed and sealed at once.
func WithWorkers(n int) Option {
	return func(v *Vault) {
		if n > 0 {
			v.workers = n
		}
	}
}

// WithBatchBytes sets how many bytes of blocks are written to the store at
// once (smaller on low-memory devices).
func WithBatchBytes(n int) Option {
	return func(v *Vault) {
		if n > 0 {
			v.batch = n
		}
	}
}

// New returns a Vault of acct over bs.
func New(acct *Account, bs Blocks, opts ...Option) *Vault {
	v := &Vault{
		acct:    acct,
		blocks:  bs,
		rand:    rand.Reader,
		now:     time.Now,
		workers: runtime.GOMAXPROCS(0),
		batch:   16 << 20,
		fanout:  fanout,
		bufs:    &sync.Pool{},
		dirs:    &dirCache{},
	}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Account returns the vault's account.
func (v *Vault) Account() *Account { return v.acct }
