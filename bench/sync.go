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

// ask sends one command to a probe and returns its duration.
func (r *runner) ask(pr *lantest.Probe, cmd string) time.Duration {
	d, err := pr.Ask(cmd)
	if err != nil {
		r.Fatal(err)
	}
	return d
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

// sync measures how long a change on one device takes to show on a second
// device of the account, and how long a DHT resolution takes.
func (r *runner) sync(changes int) {
	lan := lantest.New(r, 3)
	a := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true})
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	b := lantest.NewPeer(r, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Phrase: phrase})
	c := lantest.NewPeer(r, lan.Hosts[2], lantest.PeerOptions{MDNS: true})
	a.Start()
	b.Start()
	c.Start()
	b.MustRun("peers", "--wait", "2", "--timeout", "60s")
	c.MustRun("peers", "--wait", "2", "--timeout", "60s")
	pb := lantest.StartProbe(r, b)
	dir := r.TempDir()
	var lat []time.Duration
	for i := range changes {
		name := fmt.Sprintf("change-%03d.txt", i)
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(name), 0o644); err != nil {
			r.Fatal(err)
		}
		a.MustRun("add", f)
		lat = append(lat, r.ask(pb, "ls / "+name))
	}
	fmt.Printf("second device sees a change (peer add on A returns -> listed on B), %d changes: p50 %.1f ms, p95 %.1f ms, max %.1f ms; goal p50 < 100 ms, p95 < 500 ms\n",
		changes, ms(percentile(lat, 0.5)), ms(percentile(lat, 0.95)), ms(percentile(lat, 1)))
	account := strings.Fields(a.MustRun("account"))[1]
	pc := lantest.StartProbe(r, c)
	var res []time.Duration
	for range 20 {
		res = append(res, r.ask(pc, "resolve "+account))
	}
	fmt.Printf("resolving an account through the DHT alone, 3-node LAN, 20 times: p50 %.2f ms, max %.2f ms\n", ms(percentile(res, 0.5)), ms(percentile(res, 1)))
	a.Stop()
	b.Stop()
	c.Stop()
	lan.Close()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
