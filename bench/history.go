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
// took on A, and both daemons' RssAnon. With files 0 each change adds a
// new file, so the folder grows with the history; else the changes edit
// files files in turn, so only the history grows.
func (r *runner) history(changes, files int, profile string) {
	lan := lantest.New(r, 2)
	a := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true, Profile: profile, LogLevel: logLevel()})
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	b := lantest.NewPeer(r, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Phrase: phrase, Profile: profile, LogLevel: logLevel()})
	startProfiled(a, "a")
	startProfiled(b, "b")
	b.MustRun("peers", "--wait", "1", "--timeout", "60s")
	pb := lantest.StartProbe(r, b)
	dir := r.TempDir()
	rows := map[int]bool{10: true, 1000: true, 2500: true, changes: true}
	for i := changes / 10; i < changes; i += changes / 10 {
		rows[i] = true
	}
	what := "each a new file in one folder"
	if files > 0 {
		what = fmt.Sprintf("edits of %d files in turn", files)
	}
	fmt.Printf("history, %d changes (%s, profile %s): follower latency over the changes since the row before; add = peer add on A\n", changes, what, profile)
	var lat, adds []time.Duration
	for i := 1; i <= changes; i++ {
		name := fmt.Sprintf("f%05d.txt", i)
		if files > 0 {
			name = fmt.Sprintf("f%05d.txt", 1+(i-1)%files)
		}
		text := fmt.Sprintf("%s:%d", name, i)
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			r.Fatal(err)
		}
		began := time.Now()
		a.MustRun("add", f)
		adds = append(adds, time.Since(began))
		lat = append(lat, r.ask(pb, "reads /"+name+" "+text))
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
	r.saveLogs(map[string]*lantest.Peer{"a": a, "b": b})
	lan.Close()
}
