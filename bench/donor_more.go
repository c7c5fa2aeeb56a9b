package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/internal/lantest"
)

// donorMirror measures a donor's first mirror of an account holding n
// random bytes in one file, over the emulated 1 Gbit/s link (tbf on both
// ends), beside iperf3 on the same link: from 'peer donate --accounts'
// returning on the donor (a donor with no account, profile given) to its
// status naming the owner's head as held (the whole DAG fetched and
// pinned). The two found each other by mDNS; libp2p picks the transport.
func (r *runner) donorMirror(n int64, profile string) {
	lan := lantest.New(r, 2)
	for _, h := range lan.Hosts {
		if err := h.Shape("1gbit"); err != nil {
			r.Fatal(err)
		}
	}
	iperf := iperf3(r, lan.Hosts[0], lan.Hosts[1])
	a := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true, LogLevel: logLevel()})
	d := lantest.NewPeer(r, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Profile: profile, Config: []string{"only = true"}, LogLevel: logLevel()})
	startProfiled(a, "owner")
	startProfiled(d, "donor")
	for _, p := range []*lantest.Peer{a, d} {
		p.MustRun("peers", "--wait", "1", "--timeout", "60s")
	}
	var res api.AddResult
	if err := json.Unmarshal([]byte(a.MustRun("add", "--json", r.randomFile(n))), &res); err != nil || res.Snapshot == "" {
		r.Fatalf("peer add --json gave no snapshot: %v", err)
	}
	var acct api.Account
	if err := json.Unmarshal([]byte(a.MustRun("account", "--json")), &acct); err != nil {
		r.Fatal(err)
	}
	pd := lantest.StartProbe(r, d)
	d.MustRun("donate", "--accounts", acct.Account)
	took := r.ask(pd, fmt.Sprintf("donor %s 600", strings.TrimSpace(res.Snapshot)))
	var st api.DonorStatus
	if err := json.Unmarshal([]byte(d.MustRun("donate", "status", "--json")), &st); err != nil || len(st.Accounts) != 1 {
		r.Fatalf("donate status: %v", err)
	}
	held := st.Accounts[0].Bytes
	fmt.Printf("donor's first mirror of an account of %d MiB (one file; donor profile %s; 1 Gbit/s link, mDNS): %.1f s, %.1f MB/s of the account's bytes held (%d MiB), %.2f of iperf3 (%.1f MB/s); goal >= 0.9\n",
		n>>20, profile, took.Seconds(), mbps(held, took), held>>20, mbps(held, took)/iperf, iperf)
	a.Stop()
	d.Stop()
	r.saveLogs(map[string]*lantest.Peer{"owner": a, "donor": d})
	lan.Close()
}

// donorSoak runs a donor with no account (profile pi) serving three
// accounts that each change (a small file added) every `every`, for
// length; it prints the donor's RssAnon and VmRSS every minute, how many
// of the three heads it holds, and at the end the mean RssAnon of the
// first and last ten minutes (a third of length when shorter).
func (r *runner) donorSoak(length, every time.Duration) {
	lan := lantest.New(r, 4)
	d := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true, Profile: "pi", Config: []string{"only = true"}, LogLevel: logLevel()})
	startProfiled(d, "soak-donor")
	var owners []*lantest.Peer
	var ids []string
	for i := 1; i < 4; i++ {
		p := lantest.NewPeer(r, lan.Hosts[i], lantest.PeerOptions{MDNS: true})
		p.Start()
		var acct api.Account
		if err := json.Unmarshal([]byte(p.MustRun("account", "--json")), &acct); err != nil {
			r.Fatal(err)
		}
		owners = append(owners, p)
		ids = append(ids, acct.Account)
	}
	d.MustRun("peers", "--wait", "3", "--timeout", "60s")
	d.MustRun("donate", "--accounts", strings.Join(ids, ","))
	window := min(10*time.Minute, length/3)
	fmt.Printf("pi donor soak: 3 accounts, each changing every %s, for %s (RssAnon every minute)\n", every, length)
	dir := r.TempDir()
	heads := make([]string, len(owners))
	type sample struct {
		at   time.Duration
		anon int64
	}
	var samples []sample
	began := time.Now()
	tick := time.NewTicker(every / time.Duration(len(owners)))
	defer tick.Stop()
	nextPrint := time.Minute
	changes := 0
	// Bounded in count and time: one change per tick, until length.
	for i := 0; time.Since(began) < length && i < int(length/every+1)*len(owners); i++ {
		<-tick.C
		o := i % len(owners)
		f := filepath.Join(dir, fmt.Sprintf("c%d-%06d.txt", o, i))
		if err := os.WriteFile(f, []byte(f), 0o644); err != nil {
			r.Fatal(err)
		}
		var res api.AddResult
		if err := json.Unmarshal([]byte(owners[o].MustRun("add", "--json", f)), &res); err != nil {
			r.Fatal(err)
		}
		os.Remove(f)
		heads[o] = res.Snapshot
		changes++
		if at := time.Since(began); at >= nextPrint {
			nextPrint += time.Minute
			anon, rss := procMem(r, d.PID())
			samples = append(samples, sample{at, anon})
			var st api.DonorStatus
			if err := json.Unmarshal([]byte(d.MustRun("donate", "status", "--json")), &st); err != nil {
				r.Fatal(err)
			}
			held := 0
			var bytes int64
			for _, a := range st.Accounts {
				if slices.Contains(heads, a.Head) {
					held++
				}
				bytes += a.Bytes
			}
			fmt.Printf("  %3.0f min: donor RssAnon %d MB, VmRSS %d MB; %d changes made; newest head held for %d of 3 accounts; %d MiB held\n",
				at.Minutes(), anon>>20, rss>>20, changes, held, bytes>>20)
		}
	}
	var first, last []int64
	for _, s := range samples {
		if s.at <= window {
			first = append(first, s.anon)
		}
		if s.at >= length-window {
			last = append(last, s.anon)
		}
	}
	if len(first) > 0 && len(last) > 0 {
		mean := func(xs []int64) float64 {
			var t int64
			for _, x := range xs {
				t += x
			}
			return float64(t) / float64(len(xs)) / (1 << 20)
		}
		all := make([]int64, 0, len(samples))
		for _, s := range samples {
			all = append(all, s.anon)
		}
		fmt.Printf("pi donor soak: RssAnon mean of the first %s %.1f MB, of the last %s %.1f MB (goal: within 5 MB), max %d MB (goal <= 50 MB)\n",
			window, mean(first), window, mean(last), slices.Max(all)>>20)
	}
	for _, p := range append(owners, d) {
		p.Stop()
	}
	r.saveLogs(map[string]*lantest.Peer{"soak-donor": d})
	lan.Close()
}
