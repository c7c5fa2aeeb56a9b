package sync

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestLongHistory follows a long run of small changes from one device on
// a second (PEER_LONG_HISTORY=N changes; skipped without it) and prints
// the time from each add returning to the second device's head matching,
// per stretch of changes, with the heap both devices hold. A profile is
// written to PEER_LONG_HISTORY_PROFILE, a heap profile at the end to
// PEER_LONG_HISTORY_HEAP, when set.
//
//	PEER_LONG_HISTORY=2000 go test ./sync -run LongHistory -v
func TestLongHistory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PEER_LONG_HISTORY"))
	if n <= 0 {
		t.Skip("set PEER_LONG_HISTORY=N to follow N changes")
	}
	if f := os.Getenv("PEER_LONG_HISTORY_PROFILE"); f != "" {
		pf, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		pprof.StartCPUProfile(pf)
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	a, b := devicePair(t)
	if f := os.Getenv("PEER_LONG_HISTORY_HEAP"); f != "" {
		defer func() {
			runtime.GC()
			hf, err := os.Create(f)
			if err != nil {
				t.Fatal(err)
			}
			defer hf.Close()
			pprof.WriteHeapProfile(hf)
		}()
	}
	stretch := max(10, n/10)
	var lat, adds []time.Duration
	for i := range n {
		began := time.Now()
		a.add(t, fmt.Sprintf("f%05d", i), 100)
		added := time.Now()
		want := a.acct.Head().CID
		for {
			if h := b.acct.Head(); h != nil && h.CID.Equals(want) {
				break
			}
			if time.Since(added) > time.Minute {
				t.Fatalf("change %d: b did not take a's head within a minute", i)
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(added))
		adds = append(adds, added.Sub(began))
		if (i+1)%stretch == 0 || i == 9 {
			k := min(len(lat), 10)
			if i != 9 {
				k = stretch
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			t.Logf("changes %5d-%5d: follower p50 %6.1f ms p95 %6.1f ms; add p50 %6.1f ms; heap in use %4d MB",
				i+2-k, i+1, msOf(pct(lat[len(lat)-k:], 0.5)), msOf(pct(lat[len(lat)-k:], 0.95)), msOf(pct(adds[len(adds)-k:], 0.5)), ms.HeapInuse>>20)
		}
	}
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
