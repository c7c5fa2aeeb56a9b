package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// vanish measures what a device that vanishes costs the others (issue
// 10, item 9): three devices of one account found each other by mDNS;
// the third's link goes down (its connections are never closed, as when
// a lid shuts or a cable is pulled). Meanwhile the first makes changes
// and the figure is how soon the second lists each; the third makes
// changes of its own, offline. Then the link comes back and the figure
// is how soon all three list everything the others wrote. rounds repeats
// the cut and the heal.
func (r *runner) vanish(changes, rounds int) {
	lan := lantest.New(r, 3)
	level := logLevel() // debug.go: logs a.log, b.log, c.log
	a := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true, LogLevel: level})
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	b := lantest.NewPeer(r, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Phrase: phrase, LogLevel: level})
	c := lantest.NewPeer(r, lan.Hosts[2], lantest.PeerOptions{MDNS: true, Phrase: phrase, LogLevel: level})
	for _, p := range []*lantest.Peer{a, b, c} {
		p.Start()
	}
	for _, p := range []*lantest.Peer{a, b, c} {
		p.MustRun("peers", "--wait", "2", "--timeout", "60s")
	}
	pa, pb, pc := lantest.StartProbe(r, a), lantest.StartProbe(r, b), lantest.StartProbe(r, c)
	dir := r.TempDir()
	add := func(p *lantest.Peer, name string) {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(name), 0o644); err != nil {
			r.Fatal(err)
		}
		p.MustRun("add", f)
		os.Remove(f)
	}
	var before, during, heal []time.Duration
	failed := 0
	for round := range rounds {
		for i := range changes {
			name := fmt.Sprintf("before-%d-%03d.txt", round, i)
			add(a, name)
			before = append(before, r.ask(pb, "cat /"+name))
		}
		if err := lan.Hosts[2].SetLink(false); err != nil {
			r.Fatal(err)
		}
		var lastA, lastC string
		for i := range changes {
			lastA = fmt.Sprintf("during-a-%d-%03d.txt", round, i)
			add(a, lastA)
			d, err := pb.Ask("cat /" + lastA)
			if err != nil {
				failed++
				continue
			}
			during = append(during, d)
			if i%10 == 0 {
				lastC = fmt.Sprintf("during-c-%d-%03d.txt", round, i)
				add(c, lastC)
			}
		}
		up := time.Now()
		fmt.Fprintf(os.Stderr, "vanish: round %d: C's link up at %s\n", round, up.Format("15:04:05.000"))
		if err := lan.Hosts[2].SetLink(true); err != nil {
			r.Fatal(err)
		}
		// Everything each wrote reaches the others: C's on A and B, A's
		// on C.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var last time.Time
		ok := true
		for _, look := range []struct {
			pr   *lantest.Probe
			name string
		}{{pa, lastC}, {pb, lastC}, {pc, lastA}} {
			wg.Go(func() {
				if _, err := look.pr.Ask("cat /" + look.name); err != nil {
					mu.Lock()
					ok = false
					mu.Unlock()
					return
				}
				mu.Lock()
				if now := time.Now(); now.After(last) {
					last = now
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if !ok {
			r.Errorf("round %d: the three did not converge within the probe's 10 s", round)
			continue
		}
		heal = append(heal, last.Sub(up))
		// The next round starts with all three connected again.
		for _, p := range []*lantest.Peer{a, b, c} {
			p.MustRun("peers", "--wait", "2", "--timeout", "60s")
		}
	}
	if len(during) == 0 || len(heal) == 0 {
		fmt.Printf("three devices, one cut off: no change reached B (%d tries) or the three never converged\n", failed)
		return
	}
	fmt.Printf("three devices, one cut off (%d rounds of %d changes): B lists A's change, all connected p50 %.0f ms, p95 %.0f ms; with C cut off p50 %.0f ms, p95 %.0f ms, max %.0f ms (%d not within 10 s; goal p95 <= 500 ms); converged after C's link came back min %.0f ms, median %.0f ms, max %.0f ms (goal <= 2 s)\n",
		rounds, changes, ms(percentile(before, 0.5)), ms(percentile(before, 0.95)),
		ms(percentile(during, 0.5)), ms(percentile(during, 0.95)), ms(percentile(during, 1)), failed,
		ms(percentile(heal, 0)), ms(percentile(heal, 0.5)), ms(percentile(heal, 1)))
	for _, p := range []*lantest.Peer{a, b, c} {
		p.Stop()
	}
	r.saveLogs(map[string]*lantest.Peer{"a": a, "b": b, "c": c})
	lan.Close()
}
