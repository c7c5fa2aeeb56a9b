package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A daemon's memory is mostly garbage between collections: a burst of
// short-lived buffers (a peer sending messages that claim large sizes, a
// flood of refused announcements) grows the heap, and the runtime returns
// the freed pages to the system only slowly, so the resident set stayed
// near its peak (measured: 9 MB idle, 90 MB after a minute of a hostile
// peer's malformed streams, with under 10 MB live). governMemory keeps a
// soft memory limit a little above the live heap, following it as it
// grows or shrinks: the runtime then collects and returns memory before
// the resident set runs far past what is in use. The limit is soft, so a
// live heap above it only makes collections more frequent (the runtime
// caps their CPU), and it is raised at the next reading.
//
// The limit alone leaves an idle daemon holding whatever garbage its last
// burst of work left below the limit, since no collection comes while
// nothing is allocated: after moving 1 GiB, the same idle daemon held 14
// MB in one run and 75 MB in another. So once the daemon has allocated
// next to nothing for quietFor, it collects twice (the second empties
// the buffer pools, which keep what the first collection leaves them)
// and returns the freed memory to the system, once per quiet spell.

// memoryPolicy is how far above the live heap the limit sits, and when
// the daemon counts as idle.
type memoryPolicy struct {
	floor    int64   // never below this
	headroom int64   // bytes above the live heap
	factor   float64 // plus this share of the live heap
	every    time.Duration
	// quietBytes is the most a tick may allocate and count as quiet;
	// quietFor the quiet time before freed memory is returned.
	quietBytes uint64
	quietFor   time.Duration
}

var (
	defaultMemory = memoryPolicy{floor: 32 << 20, headroom: 16 << 20, factor: 0.1, every: 500 * time.Millisecond, quietBytes: 256 << 10, quietFor: 2 * time.Second}
	piMemory      = memoryPolicy{floor: 40 << 20, headroom: 8 << 20, factor: 0.1, every: 500 * time.Millisecond, quietBytes: 256 << 10, quietFor: 2 * time.Second}
)

// limit is the memory limit for a live heap of live bytes.
func (p memoryPolicy) limit(live int64) int64 {
	return max(p.floor, live+p.headroom+int64(float64(live)*p.factor))
}

// quiet follows a daemon's allocations, tick by tick, to say when it has
// gone idle.
type quiet struct {
	p        memoryPolicy
	last     uint64 // bytes allocated in all, at the last tick
	ticks    int    // quiet ticks in a row
	released bool   // memory was returned in this quiet spell
}

// tick takes the bytes allocated in all so far and reports whether to
// return freed memory now: the first tick of quietFor without more than
// quietBytes allocated in any tick, once until the daemon is busy again.
func (q *quiet) tick(allocs uint64) bool {
	d := allocs - q.last
	q.last = allocs
	if d > q.p.quietBytes {
		q.ticks, q.released = 0, false
		return false
	}
	q.ticks++
	if q.released || time.Duration(q.ticks)*q.p.every < q.p.quietFor {
		return false
	}
	q.released = true
	return true
}

// governMemory adjusts the runtime's soft memory limit to the live heap
// until ctx ends, then lifts it, and returns freed memory to the system
// when the daemon goes idle.
func governMemory(ctx context.Context, p memoryPolicy) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	q := &quiet{p: p}
	set := func() {
		metrics.Read(sample)
		if sample[1].Value.Kind() == metrics.KindUint64 && q.tick(sample[1].Value.Uint64()) {
			runtime.GC()
			debug.FreeOSMemory()
			metrics.Read(sample)
		}
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(p.limit(int64(sample[0].Value.Uint64())))
		}
	}
	set()
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	defer debug.SetMemoryLimit(-1 >> 1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			set()
		}
	}
}
