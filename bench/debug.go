package main

import (
	"os"
	"path/filepath"

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
