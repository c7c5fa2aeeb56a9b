package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// flap measures how soon two devices of one account that found each
// other by mDNS are back in step after one device's link goes down and
// comes back: flaps times for each length, the change made during the
// flap alternately on the flapped device and on the other, and every
// other pair of flaps by the carrier (the bridge port) instead of the
// interface. Each figure is from the link coming back to the other device
// listing the change.
func (r *runner) flap(flaps int, lengths []time.Duration) {
	lan := lantest.New(r, 2)
	a := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true})
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	b := lantest.NewPeer(r, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Phrase: phrase})
	a.Start()
	b.Start()
	a.MustRun("peers", "--wait", "1", "--timeout", "60s")
	b.MustRun("peers", "--wait", "1", "--timeout", "60s")
	pa, pb := lantest.StartProbe(r, a), lantest.StartProbe(r, b)
	for _, down := range lengths {
		var took []time.Duration
		failed := 0
		for i := range flaps {
			f := lantest.Flap{Host: lan.Hosts[0], Down: down, Carrier: i/2%2 == 1,
				Writer: a, Reader: pb, Name: fmt.Sprintf("flap-%s-%02d.txt", down, i)}
			if i%2 == 1 {
				f.Writer, f.Reader = b, pa
			}
			d, err := lantest.MeasureFlap(r, f)
			if err != nil {
				r.Errorf("flap of %s, %d: %v", down, i, err)
				failed++
				continue
			}
			took = append(took, d)
			// The next flap starts with both devices connected.
			a.MustRun("peers", "--wait", "1", "--timeout", "30s")
			b.MustRun("peers", "--wait", "1", "--timeout", "30s")
		}
		if len(took) == 0 {
			fmt.Printf("link down %s and back, %d flaps: the change never arrived within 10 s\n", down, flaps)
			continue
		}
		fmt.Printf("link down %s and back, %d flaps (%d not within 10 s): change listed on the other device after the link is back min %.0f ms, median %.0f ms, p95 %.0f ms, max %.0f ms; goal p95 <= 2 s\n",
			down, flaps, failed, ms(percentile(took, 0)), ms(percentile(took, 0.5)), ms(percentile(took, 0.95)), ms(percentile(took, 1)))
	}
	a.Stop()
	b.Stop()
	lan.Close()
}
