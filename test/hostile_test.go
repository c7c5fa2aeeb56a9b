package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// floodFor is how long the hostile peer attacks.
var floodFor = 60 * time.Second

// TestHostilePeerFlood: a hostile LAN peer attacks two devices of one
// account for a minute at once in every way it knows (a Sybil flood of the
// blocks topic, replayed records, DHT put spam, a wantlist flood, malformed
// streams). Each daemon's RssAnon stays within 30 MB of its idle figure,
// the disk grows by a bounded amount, and every change made on A during
// the flood reaches B within a second.
func TestHostilePeerFlood(t *testing.T) {
	lan := lantest.New(t, 3)
	a, b := devicePair(t, lan)
	dir := t.TempDir()
	pb := lantest.StartProbe(t, b)
	// change adds a file on A and returns how long after 'peer add'
	// returned B listed it.
	change := func(i int) time.Duration {
		name := fmt.Sprintf("c%03d.txt", i)
		src := filepath.Join(dir, name)
		os.WriteFile(src, []byte(name), 0o644)
		a.MustRun("add", src)
		took, err := pb.Ask("ls / " + name)
		if err != nil {
			t.Fatalf("%s on B: %v", name, err)
		}
		return took
	}
	change(0)
	var st struct{ Account string }
	if err := json.Unmarshal([]byte(a.MustRun("status", "--json")), &st); err != nil {
		t.Fatal(err)
	}

	// Idle figures: the most each daemon holds over a few quiet seconds.
	idle := map[string]int64{}
	peak := map[string]int64{}
	devices := map[string]*lantest.Peer{"A": a, "B": b}
	sample := func(into map[string]int64) {
		for name, p := range devices {
			anon, _, err := lantest.Mem(p.PID())
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			into[name] = max(into[name], anon)
		}
	}
	for i := 0; i < 30; i++ {
		sample(idle)
		time.Sleep(100 * time.Millisecond)
	}
	diskBefore := map[string]int64{"A": duBytes(t, a.Repo), "B": duBytes(t, b.Repo)}

	bin := lantest.Binary(t, "github.com/peer-cloud/peer/internal/hostile/cmd/hostile")
	ctx, cancel := context.WithTimeout(context.Background(), floodFor+time.Minute)
	defer cancel()
	h := lan.Hosts[2]
	args := []string{"--listen", "/ip4/" + h.IP + "/tcp/0", "--target", a.Addr(), "--target", b.Addr(),
		"--account", st.Account, "--duration", floodFor.String()}
	// PEER_HOSTILE_ARGS adds flags, to try one attack at a time.
	args = append(args, strings.Fields(os.Getenv("PEER_HOSTILE_ARGS"))...)
	cmd := h.Command(ctx, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var mu sync.Mutex
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				mu.Lock()
				sample(peak)
				mu.Unlock()
			}
		}
	}()
	var lat []time.Duration
	var exitErr error
flood:
	for i := 1; ; i++ {
		select {
		case exitErr = <-done:
			break flood
		default:
		}
		lat = append(lat, change(i))
		select {
		case exitErr = <-done:
			break flood
		case <-time.After(time.Second):
		}
	}
	close(stopSampling)
	<-sampled
	if exitErr != nil {
		t.Fatalf("hostile peer: %v: %s", exitErr, errOut.String())
	}
	var sum struct {
		Identities      int64 `json:"identities"`
		BlockMessages   int64 `json:"block_messages"`
		ReplayedRecords int64 `json:"replayed_records"`
		DHTPuts         int64 `json:"dht_puts_accepted"`
		Wants           int64 `json:"wants"`
		GarbageStreams  int64 `json:"garbage_streams"`
		Errors          []string
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("hostile peer's summary %q: %v", out.String(), err)
	}
	for i := range sum.Errors {
		sum.Errors[i] = strings.ReplaceAll(sum.Errors[i][:min(len(sum.Errors[i]), 300)], "\n", " ")
	}
	t.Logf("hostile peer sent: %+v", sum)
	if os.Getenv("PEER_HOSTILE_LOGS") != "" {
		t.Logf("A log: %s", a.Logs())
		t.Logf("B log: %s", b.Logs())
		t.Logf("hostile's stderr: %s", errOut.String())
	}
	if os.Getenv("PEER_HOSTILE_ARGS") == "" && (sum.Identities < 10 || sum.BlockMessages < 100 || sum.ReplayedRecords == 0) {
		t.Errorf("the attack was weaker than meant: %+v", sum)
	}

	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("%d changes during the flood reached B: min %s, median %s, max %s (from 'peer add' on A returning to B listing it)",
		len(lat), lat[0], lat[len(lat)/2], lat[len(lat)-1])
	if lat[len(lat)-1] > time.Second {
		t.Errorf("a change took %s to reach B during the flood; want <= 1 s", lat[len(lat)-1])
	}
	for _, name := range []string{"A", "B"} {
		t.Logf("%s: RssAnon idle %d MB, during the flood at most %d MB", name, idle[name]>>20, peak[name]>>20)
		if peak[name] > idle[name]+30<<20 {
			t.Errorf("%s's RssAnon rose from %d MB idle to %d MB during the flood; want within 30 MB", name, idle[name]>>20, peak[name]>>20)
		}
		p := devices[name]
		// Badger allocates value-log files ahead, so the folder grows in
		// steps; what strangers can make a node keep is bounded by the
		// DHT record quota.
		grew := duBytes(t, p.Repo) - diskBefore[name]
		var rs struct {
			DHTRecords     int   `json:"dht_records"`
			DHTRecordBytes int64 `json:"dht_record_bytes"`
			DHTMaxRecords  int   `json:"dht_max_records"`
			DHTMaxBytes    int64 `json:"dht_max_bytes"`
			DHTRefused     int64 `json:"dht_refused"`
		}
		if err := json.Unmarshal([]byte(p.MustRun("repo", "stat", "--json")), &rs); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: repo grew by %d MB; DHT records %d (%d KB) of at most %d (%d KB), %d puts refused", name, grew>>20,
			rs.DHTRecords, rs.DHTRecordBytes>>10, rs.DHTMaxRecords, rs.DHTMaxBytes>>10, rs.DHTRefused)
		if grew > 128<<20 || rs.DHTRecords > rs.DHTMaxRecords || rs.DHTRecordBytes > rs.DHTMaxBytes {
			t.Errorf("%s's repo grew by %d MB during the flood, holding %d DHT records", name, grew>>20, rs.DHTRecords)
		}
	}
	// Both daemons still answer, and hold the same head.
	waitFor(t, 10*time.Second, "A and B on one head", func() bool { return head(t, a) == head(t, b) })
	if head(t, a) == "" {
		t.Fatal("no head")
	}
}

// duBytes is the disk space the files under dir take.
func duBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			n += diskUsage(fi)
		}
		return nil
	})
	return n
}
