package sync

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// TestPushWaitsForTheReceiver: a push counts only once the receiver took
// the record and closed the stream; one it reset (as a stream over a
// connection that died while the link was down is) fails, and the
// retrying push tries again until one is taken.
func TestPushWaitsForTheReceiver(t *testing.T) {
	a, b := devicePair(t)
	a.add(t, "first", 10)
	waitUntil(t, 30*time.Second, "b takes a's head", func() bool { return b.headOf(t) == a.headOf(t) })
	var seen, reset, resets atomic.Int32
	resets.Store(2)
	b.node.Host().SetStreamHandler(pushProtocol, func(s network.Stream) {
		seen.Add(1)
		if reset.Load() < resets.Load() {
			reset.Add(1)
			s.Reset()
			return
		}
		b.svc.servePush(s)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	bp := b.node.Host().ID()
	if err := a.svc.pushOnce(ctx, bp); err == nil {
		t.Fatal("a push the receiver reset counted as pushed")
	}
	if err := a.svc.pushRecord(ctx, bp); err != nil {
		t.Fatalf("the retrying push: %v", err)
	}
	if n := seen.Load(); n != 3 {
		t.Fatalf("b saw %d pushes, want 3 (two reset, one taken)", n)
	}
	// Every attempt reset: the retrying push gives up and says so.
	resets.Store(100)
	reset.Store(0)
	if err := a.svc.pushRecord(ctx, bp); err == nil {
		t.Fatal("a push reset every time counted as pushed")
	}
	if n := reset.Load(); n != pushAttempts {
		t.Fatalf("%d attempts, want %d", n, pushAttempts)
	}
}
