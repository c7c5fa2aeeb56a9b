package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// history makes changes one after another on device A, one small file
// each, with device B of the account following (both found by mDNS on a
// namespace LAN), and prints at 10, 1 000, 2 500 and changes (and every
// changes/10 in between) B's latency over the changes since the last row
// (from peer add on A returning to B reading the file), how long peer add
// took on A, and both daemons' RssAnon.
func (r *runner) history(changes int, profile string) {
	lan := lantest.New(r, 2)
	// PEER_BENCH_LOGS=DIR: both daemons' debug logs, DIR/a.log and b.log.
	logs := os.Getenv("PEER_BENCH_LOGS")
	level := ""
	if logs != "" {
		level = "debug"
	}
	a := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true, Profile: profile, LogLevel: level})
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	b := lantest.NewPeer(r, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Phrase: phrase, Profile: profile, LogLevel: level})
	// PEER_BENCH_PROFILE=DIR: CPU profiles of both daemons' runs, and
	// their heaps at the end (DIR/a.prof, a.heap, b.prof, b.heap).
	start := func(p *lantest.Peer, name string) {
		if d := os.Getenv("PEER_BENCH_PROFILE"); d != "" {
			os.Setenv("PEER_CPUPROFILE", filepath.Join(d, name+".prof"))
			os.Setenv("PEER_HEAPPROFILE", filepath.Join(d, name+".heap"))
			defer os.Unsetenv("PEER_CPUPROFILE")
			defer os.Unsetenv("PEER_HEAPPROFILE")
		}
		p.Start()
	}
	start(a, "a")
	start(b, "b")
	b.MustRun("peers", "--wait", "1", "--timeout", "60s")
	pb := lantest.StartProbe(r, b)
	dir := r.TempDir()
	rows := map[int]bool{10: true, 1000: true, 2500: true, changes: true}
	for i := changes / 10; i < changes; i += changes / 10 {
		rows[i] = true
	}
	fmt.Printf("history, %d changes (profile %s): follower latency over the changes since the row before; add = peer add on A\n", changes, profile)
	var lat, adds []time.Duration
	for i := 1; i <= changes; i++ {
		name := fmt.Sprintf("f%05d.txt", i)
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(name), 0o644); err != nil {
			r.Fatal(err)
		}
		began := time.Now()
		a.MustRun("add", f)
		adds = append(adds, time.Since(began))
		lat = append(lat, r.ask(pb, "cat /"+name))
		os.Remove(f)
		if rows[i] {
			aa, _ := procMem(r, a.PID())
			ba, _ := procMem(r, b.PID())
			fmt.Printf("  changes %5d: B latency p50 %6.1f ms, p95 %6.1f ms, max %7.1f ms; add p50 %6.1f ms; RssAnon A %4d MB, B %4d MB\n",
				i, ms(percentile(lat, 0.5)), ms(percentile(lat, 0.95)), ms(slices.Max(lat)), ms(percentile(adds, 0.5)), aa>>20, ba>>20)
			lat, adds = lat[:0], adds[:0]
		}
	}
	a.Stop()
	b.Stop()
	if logs != "" {
		for name, p := range map[string]*lantest.Peer{"a.log": a, "b.log": b} {
			if err := os.WriteFile(filepath.Join(logs, name), []byte(p.Logs()), 0o644); err != nil {
				r.Fatal(err)
			}
		}
	}
	lan.Close()
}
