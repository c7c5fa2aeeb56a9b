package test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// TestLinkFlap (issue 16): two devices of one account found each other by
// mDNS; one device's link goes down for 5 s and comes back, four times:
// its interface twice, then its switch port twice (the interface stays up
// and loses its carrier). A change made during each flap, on the flapped
// device or on the other, reaches the other device within 5 s of the link
// coming back, and the two list each other as peers. (They used to stay
// apart for minutes: mDNS reports a peer it has seen only once until its
// record's TTL, 3200 s, ends, and a dead connection kept the other side
// from dialling.) The figure, p95 under 2 s over 10 flaps of 5 s and of
// 60 s, is measured by go run ./bench -skip link,loopback,add,memory,vault,sync.
func TestLinkFlap(t *testing.T) {
	lan := lantest.New(t, 2)
	a, b := devicePair(t, lan)
	a.MustRun("peers", "--wait", "1", "--timeout", "60s")
	idA, idB := a.ID(), b.ID()
	pa, pb := lantest.StartProbe(t, a), lantest.StartProbe(t, b)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("A's log:\n%s\nB's log:\n%s", a.Logs(), b.Logs())
		}
	})
	for i := range 4 {
		f := lantest.Flap{Host: lan.Hosts[0], Down: 5 * time.Second, Carrier: i >= 2,
			Writer: a, Reader: pb, Name: fmt.Sprintf("flap-%d.txt", i)}
		if i%2 == 1 {
			f.Writer, f.Reader = b, pa
		}
		took, err := lantest.MeasureFlap(t, f)
		if err != nil {
			for name, p := range map[string]*lantest.Peer{"A": a, "B": b} {
				st, _ := p.Run("status", "--json")
				t.Logf("%s's status: %s", name, st)
			}
			t.Fatalf("flap %d (carrier %t): %v", i, f.Carrier, err)
		}
		t.Logf("flap %d (carrier %t, change on %s): listed on the other device %v after the link came back",
			i, f.Carrier, map[bool]string{true: "A", false: "B"}[f.Writer == a], took.Round(time.Millisecond))
		if took > 5*time.Second {
			t.Errorf("flap %d: the change took %v after the link came back; want under 5 s", i, took)
		}
		if !strings.Contains(a.MustRun("peers", "--wait", "1", "--timeout", "5s"), idB) ||
			!strings.Contains(b.MustRun("peers", "--wait", "1", "--timeout", "5s"), idA) {
			t.Fatalf("flap %d: the devices do not list each other as peers", i)
		}
	}
}
