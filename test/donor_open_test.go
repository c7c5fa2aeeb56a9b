package test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/internal/lantest"
)

// TestOpenDonor (issue 12): an open donor takes the accounts whose
// devices ask, as many as its quota holds at its per-account bound, and
// mirrors them; the next one is told there is no room.
func TestOpenDonor(t *testing.T) {
	lan := lantest.New(t, 4)
	d := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{MDNS: true, Config: []string{"only = true", `quota = "2GiB"`}})
	d.Start()
	var owners []*lantest.Peer
	for i := 1; i < 4; i++ {
		p := lantest.NewPeer(t, lan.Hosts[i], lantest.PeerOptions{MDNS: true})
		p.Start()
		owners = append(owners, p)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("donor's log:\n%s", d.Logs())
		}
	})
	// The donor opens while the owners' devices are connected already:
	// they learn it by identify push, not at connection.
	d.MustRun("peers", "--wait", "3", "--timeout", "60s")
	if _, err := d.Run("donate", "--open"); err == nil || !strings.Contains(err.Error(), "--per-account") {
		t.Fatalf("donate --open with no per-account bound: %v", err)
	}
	d.MustRun("donate", "--open", "--per-account", "1GiB")
	var st api.DonorStatus
	waitFor(t, time.Minute, "the open donor takes two accounts", func() bool {
		if err := json.Unmarshal([]byte(d.MustRun("donate", "status", "--json")), &st); err != nil {
			t.Fatal(err)
		}
		return len(st.Accounts) == 2
	})
	if !st.Open {
		t.Fatal("donate status does not say the donor is open")
	}
	var refused *lantest.Peer
	waitFor(t, time.Minute, "the third account is told there is no room", func() bool {
		for _, p := range owners {
			if strings.Contains(p.Logs(), "no room for another account") {
				refused = p
				return true
			}
		}
		return false
	})
	// An admitted account's change reaches the donor.
	for _, p := range owners {
		if p == refused {
			continue
		}
		f, _ := writeNamed(t, t.TempDir(), "notes.txt", 5000)
		p.MustRun("add", f)
		var a api.Account
		if err := json.Unmarshal([]byte(p.MustRun("account", "--json")), &a); err != nil {
			t.Fatal(err)
		}
		if _, err := lantest.StartProbe(t, d).Ask("donor " + a.Head); err != nil {
			t.Fatalf("the open donor does not hold an admitted account's head: %v", err)
		}
		break
	}
	if len(st.Accounts) != 2 {
		t.Fatalf("the donor serves %d accounts", len(st.Accounts))
	}
	if refusedID := accountOf(t, refused); serves(st, refusedID) {
		t.Fatal("the donor serves the account it refused")
	}
	// Closed again, it keeps what it took, and says so after a restart.
	d.MustRun("donate", "--open=false")
	d.Stop()
	d.Start()
	if err := json.Unmarshal([]byte(d.MustRun("donate", "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Open || len(st.Accounts) != 2 {
		t.Fatalf("after --open=false and a restart: open %v, %d accounts", st.Open, len(st.Accounts))
	}
}

func serves(st api.DonorStatus, account string) bool {
	for _, a := range st.Accounts {
		if a.Account == account {
			return true
		}
	}
	return false
}
