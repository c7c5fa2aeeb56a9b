package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/peer-cloud/peer/internal/lantest"
)

// A figure's daemons can leave what explains it:
//
//	PEER_BENCH_LOGS=DIR     their debug logs, DIR/NAME.log
//	PEER_BENCH_PROFILE=DIR  their CPU profiles and heaps at exit,
//	                        DIR/NAME.prof and NAME.heap

// logLevel is the daemons' log level: debug when their logs are kept.
func logLevel() string {
	if os.Getenv("PEER_BENCH_LOGS") != "" {
		return "debug"
	}
	return ""
}

// startProfiled starts p, profiled as name when profiles are asked for.
func startProfiled(p *lantest.Peer, name string) {
	if d := os.Getenv("PEER_BENCH_PROFILE"); d != "" {
		os.Setenv("PEER_CPUPROFILE", filepath.Join(d, name+".prof"))
		os.Setenv("PEER_HEAPPROFILE", filepath.Join(d, name+".heap"))
		defer os.Unsetenv("PEER_CPUPROFILE")
		defer os.Unsetenv("PEER_HEAPPROFILE")
	}
	p.Start()
}

// saveLogs writes each stopped daemon's logs, by name, when logs are
// asked for (an error is said, not fatal: it may run in a cleanup).
func (r *runner) saveLogs(peers map[string]*lantest.Peer) {
	d := os.Getenv("PEER_BENCH_LOGS")
	if d == "" {
		return
	}
	for name, p := range peers {
		if err := os.WriteFile(filepath.Join(d, name+".log"), []byte(p.Logs()), 0o644); err != nil {
			r.Errorf("failed to keep %s's log: %v", name, err)
		}
	}
}

// goMem reads p's Go memory figures from its /metrics (through curl in
// its namespace), to say how much of its RssAnon is live heap: heap in
// use, freed but not returned (idle less released), stacks, and the soft
// limit the daemon keeps. It says why when it cannot read them.
func goMem(p *lantest.Peer) string {
	addr, tok, err := p.API()
	if err != nil {
		return "no Go memory figures: " + err.Error()
	}
	out, err := p.Host.Command(context.Background(), "curl", "-sf", "-H", "Authorization: Bearer "+tok, addr+"/metrics").Output()
	if err != nil {
		return "no Go memory figures (curl): " + err.Error()
	}
	v := map[string]float64{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && !strings.HasPrefix(l, "#") {
			n, err := strconv.ParseFloat(f[1], 64)
			if err == nil {
				v[f[0]] = n
			}
		}
	}
	mb := func(k string) float64 { return v[k] / (1 << 20) }
	return fmt.Sprintf("Go heap in use %.0f MB, freed not returned %.0f MB, stacks %.0f MB, other runtime %.0f MB, next GC %.0f MB, soft limit %.0f MB",
		mb("go_memstats_heap_inuse_bytes"), mb("go_memstats_heap_idle_bytes")-mb("go_memstats_heap_released_bytes"),
		mb("go_memstats_stack_sys_bytes"), mb("go_memstats_other_sys_bytes")+mb("go_memstats_mspan_sys_bytes")+mb("go_memstats_mcache_sys_bytes")+mb("go_memstats_gc_sys_bytes")+mb("go_memstats_buck_hash_sys_bytes"),
		mb("go_memstats_next_gc_bytes"), mb("go_gc_gomemlimit_bytes"))
}
