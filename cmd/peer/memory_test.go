package main

import (
	"testing"
	"time"
)

// TestQuietReturnsMemoryOncePerIdleSpell: freed memory is returned after
// quietFor without more than quietBytes a tick, once, and again only
// after the daemon was busy in between.
func TestQuietReturnsMemoryOncePerIdleSpell(t *testing.T) {
	p := memoryPolicy{every: 500 * time.Millisecond, quietBytes: 1000, quietFor: 2 * time.Second}
	q := &quiet{p: p}
	var allocs uint64
	step := func(n uint64) bool { allocs += n; return q.tick(allocs) }
	if step(50 << 20) {
		t.Fatal("returned memory on the busy first tick")
	}
	for i := range 3 {
		if step(1000) {
			t.Fatalf("returned memory after %d quiet ticks of 4", i+1)
		}
	}
	if !step(10) {
		t.Fatal("did not return memory after 2 s of quiet")
	}
	for range 10 {
		if step(0) {
			t.Fatal("returned memory twice in one quiet spell")
		}
	}
	if step(1001) {
		t.Fatal("returned memory on a busy tick")
	}
	for i := range 3 {
		if step(0) {
			t.Fatalf("returned memory %d quiet ticks after being busy", i+1)
		}
	}
	if !step(0) {
		t.Fatal("did not return memory in the second quiet spell")
	}
}
