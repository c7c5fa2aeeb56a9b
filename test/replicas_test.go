package test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/internal/lantest"
)

func replicas(t *testing.T, p *lantest.Peer, args ...string) api.Replicas {
	t.Helper()
	var out api.Replicas
	if err := json.Unmarshal([]byte(p.MustRun(append([]string{"replicas", "--json"}, args...)...)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func holder(rs api.Replicas, id string) (api.Replica, bool) {
	for _, h := range rs.Holders {
		if h.Peer == id {
			return h, true
		}
	}
	return api.Replica{}, false
}

// TestReplicas (issue 12): the owner's 'peer replicas' lists its other
// device and a donor that mirrors it, each proving, with a signed
// receipt, that it holds the head and blocks picked at random; an
// account's stranger is not listed; a path's version is proved alone;
// a donor that stops serving no longer claims the account.
func TestReplicas(t *testing.T) {
	lan := lantest.New(t, 4)
	a1, a2 := devicePair(t, lan)
	acct := accountOf(t, a1)
	d := lantest.NewPeer(t, lan.Hosts[2], lantest.PeerOptions{MDNS: true, Config: []string{"only = true", `accounts = ["` + acct + `"]`}})
	b := lantest.NewPeer(t, lan.Hosts[3], lantest.PeerOptions{MDNS: true})
	d.Start()
	b.Start()
	a1.MustRun("peers", "--wait", "3", "--timeout", "60s")
	f, _ := writeNamed(t, t.TempDir(), "plan.bin", 1<<20)
	a1.MustRun("add", f)
	var info api.Account
	if err := json.Unmarshal([]byte(a1.MustRun("account", "--json")), &info); err != nil {
		t.Fatal(err)
	}
	if _, err := lantest.StartProbe(t, d).Ask("donor " + info.Head); err != nil {
		t.Fatalf("the donor does not hold the head: %v", err)
	}
	waitFor(t, time.Minute, "the second device takes the head", func() bool {
		var i2 api.Account
		return json.Unmarshal([]byte(a2.MustRun("account", "--json")), &i2) == nil && i2.Head == info.Head
	})

	rs := replicas(t, a1)
	if rs.Head != info.Head || rs.Probes < 4 {
		t.Fatalf("replicas of head %s with %d probes; want %s and at least the root, head, tree and a file", rs.Head, rs.Probes, info.Head)
	}
	for _, w := range []struct {
		p    *lantest.Peer
		role string
	}{{a2, "device"}, {d, "donor"}} {
		h, ok := holder(rs, w.p.ID())
		if !ok || h.Role != w.role || !h.Current || h.Proved != rs.Probes || h.Error != "" {
			t.Fatalf("the %s %s: %+v (listed %v); want current and every probe proved\n%+v", w.role, w.p.ID(), h, ok, rs)
		}
	}
	if h, ok := holder(rs, b.ID()); ok {
		t.Fatalf("a node of another account is listed: %+v", h)
	}

	// A path's version.
	pv := replicas(t, a1, "/plan.bin")
	if h, ok := holder(pv, d.ID()); pv.Version == "" || !ok || h.Proved != pv.Probes {
		t.Fatalf("replicas of /plan.bin: %+v", pv)
	}

	// The donor lets the account go: it no longer answers for it.
	d.MustRun("donate", "stop", acct)
	if h, ok := holder(replicas(t, a1), d.ID()); ok && h.Role == "donor" {
		t.Fatalf("a donor that stopped serving the account still claims it: %+v", h)
	}
}
