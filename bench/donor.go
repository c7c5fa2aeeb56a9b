package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/internal/lantest"
)

// donor measures how soon a donor holds an owner's change (issue 12): an
// owner's device and a donor serving its account on a namespace LAN
// (mDNS); the owner adds a small file, and the figure is the time from
// 'peer add' returning to the donor's status naming the new snapshot as
// the head it holds (root, snapshot and tree fetched and pinned).
func (r *runner) donor(changes int) {
	lan := lantest.New(r, 2)
	a := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true})
	d := lantest.NewPeer(r, lan.Hosts[1], lantest.PeerOptions{MDNS: true})
	a.Start()
	d.Start()
	for _, p := range []*lantest.Peer{a, d} {
		p.MustRun("peers", "--wait", "1", "--timeout", "60s")
	}
	var acct api.Account
	if err := json.Unmarshal([]byte(a.MustRun("account", "--json")), &acct); err != nil {
		r.Fatal(err)
	}
	d.MustRun("donate", "--accounts", acct.Account)
	pd := lantest.StartProbe(r, d)
	dir := r.TempDir()
	var took []time.Duration
	for i := range changes {
		f := filepath.Join(dir, fmt.Sprintf("change-%03d.txt", i))
		if err := os.WriteFile(f, []byte(f), 0o644); err != nil {
			r.Fatal(err)
		}
		var res api.AddResult
		if err := json.Unmarshal([]byte(a.MustRun("add", "--json", f)), &res); err != nil || res.Snapshot == "" {
			r.Fatalf("peer add --json gave no snapshot: %v", err)
		}
		took = append(took, r.ask(pd, "donor "+strings.TrimSpace(res.Snapshot)))
	}
	fmt.Printf("donor: a change on the owner's device to the donor holding it (%d changes, namespace LAN): p50 %.0f ms, p95 %.0f ms, max %.0f ms (goal p50 <= 100 ms)\n",
		changes, ms(percentile(took, 0.5)), ms(percentile(took, 0.95)), ms(percentile(took, 1)))
	a.Stop()
	d.Stop()
	lan.Close()
}
