package main

import (
	"context"
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

// memoryPolicy is how far above the live heap the limit sits.
type memoryPolicy struct {
	floor    int64   // never below this
	headroom int64   // bytes above the live heap
	factor   float64 // plus this share of the live heap
	every    time.Duration
}

var (
	defaultMemory = memoryPolicy{floor: 32 << 20, headroom: 16 << 20, factor: 0.1, every: 500 * time.Millisecond}
	piMemory      = memoryPolicy{floor: 40 << 20, headroom: 8 << 20, factor: 0.1, every: 500 * time.Millisecond}
)

// limit is the memory limit for a live heap of live bytes.
func (p memoryPolicy) limit(live int64) int64 {
	return max(p.floor, live+p.headroom+int64(float64(live)*p.factor))
}

// governMemory adjusts the runtime's soft memory limit to the live heap
// until ctx ends, then lifts it.
func governMemory(ctx context.Context, p memoryPolicy) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := func() {
		metrics.Read(sample)
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
