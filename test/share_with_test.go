package test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

type receivedRow struct {
	From    string `json:"from"`
	Contact bool   `json:"contact"`
	Name    string `json:"name"`
	Size    uint64 `json:"size"`
	Link    string `json:"link"`
}

func sharedWith(t *testing.T, p *lantest.Peer) []receivedRow {
	t.Helper()
	var out []receivedRow
	if err := json.Unmarshal([]byte(p.MustRun("shared", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func accountOf(t *testing.T, p *lantest.Peer) string {
	t.Helper()
	var a struct{ Account string }
	if err := json.Unmarshal([]byte(p.MustRun("account", "--json")), &a); err != nil {
		t.Fatal(err)
	}
	return a.Account
}

// TestShareWithAccounts: a file shared with a chosen account reaches its
// inbox at once, is listed with a link that opens it, and does not reach
// a third account; a recipient that was off gets it when it comes back;
// a stranger's flood of shares stays bounded.
func TestShareWithAccounts(t *testing.T) {
	lan := lantest.New(t, 4)
	var ps []*lantest.Peer
	for i := range 4 {
		ps = append(ps, lantest.NewPeer(t, lan.Hosts[i], lantest.PeerOptions{MDNS: true, LogLevel: os.Getenv("PEER_TEST_LOGLEVEL")}))
	}
	a, b, c, d := ps[0], ps[1], ps[2], ps[3]
	for _, p := range ps {
		p.Start()
	}
	a.MustRun("peers", "--wait", "3", "--timeout", "60s")
	ids := map[*lantest.Peer]string{}
	for _, p := range ps {
		ids[p] = accountOf(t, p)
	}
	// Each publishes once, so that its root (and box key) can be found.
	dir := t.TempDir()
	for i, p := range ps {
		f, _ := writeNamed(t, dir, fmt.Sprintf("hello-%d.txt", i), 100)
		p.MustRun("add", f)
	}
	f, sum := writeNamed(t, dir, "plan.bin", 256<<10)
	a.MustRun("add", f)
	// D is a contact of A's (its box key kept), then goes away.
	if out := a.MustRun("contacts", "add", ids[d], "--name", "dora"); !strings.Contains(out, "dora") {
		t.Fatalf("contacts add: %q", out)
	}
	b.MustRun("contacts", "add", ids[a], "--name", "alice")
	d.Stop()

	out := a.MustRun("share", "/plan.bin", "--with", ids[b]+",dora")
	if !strings.Contains(out, ids[b]) || !strings.Contains(out, ids[d]) {
		t.Fatalf("share --with printed %q", out)
	}
	var got []receivedRow
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("PEER_TEST_LOGLEVEL") != "" {
			for _, p := range ps {
				t.Logf("%s:\n%s", p.Host.NS, p.Logs())
			}
		}
	})
	waitFor(t, 30*time.Second, "the share reaches the online recipient", func() bool {
		got = sharedWith(t, b)
		return len(got) == 1
	})
	if r := got[0]; r.From != ids[a] || !r.Contact || r.Name != "plan.bin" || r.Size != 256<<10 {
		t.Fatalf("B lists %+v", r)
	}
	if s, err := catSum(b, got[0].Link, ""); err != nil || s != sum {
		t.Fatalf("the recipient's link: %v, same bytes %v", err, s == sum)
	}
	if list := sharedWith(t, c); len(list) != 0 {
		t.Fatalf("a third account got %d shares meant for others", len(list))
	}
	// Shared as it is added; a mistyped recipient adds nothing.
	g, sumG := writeNamed(t, dir, "minutes.txt", 2000)
	a.MustRun("add", g, "--share-with", ids[b])
	waitFor(t, 30*time.Second, "the file shared as it was added reaches the recipient", func() bool {
		got = sharedWith(t, b)
		return len(got) == 2
	})
	for _, r := range got {
		if r.Name == "minutes.txt" {
			if s, err := catSum(b, r.Link, ""); err != nil || s != sumG {
				t.Fatalf("the link of the file shared as it was added: %v", err)
			}
		}
	}
	h, _ := writeNamed(t, dir, "typo.txt", 10)
	if _, err := a.Run("add", h, "--share-with", "nobody-by-that-name"); err == nil {
		t.Fatal("add --share-with a name that is no contact nor account succeeded")
	}
	if _, err := a.Run("ls", "/typo.txt"); err == nil {
		t.Fatal("add --share-with a mistyped recipient added the file anyway")
	}

	// D comes back and gets it from A, which resends when D joins its
	// inbox topic.
	d.Start()
	waitFor(t, time.Minute, "the share reaches the recipient that was away", func() bool {
		list := sharedWith(t, d)
		return len(list) == 1 && list[0].From == ids[a] && !list[0].Contact
	})
	if s, err := catSum(d, sharedWith(t, d)[0].Link, ""); err != nil || s != sum {
		t.Fatalf("the returning recipient's link: %v", err)
	}

	// C, a stranger to B, sends 15 shares: B keeps at most 10 of them
	// (the hourly bound), listed as from a stranger.
	for i := range 15 {
		f, _ := writeNamed(t, dir, fmt.Sprintf("spam-%02d.txt", i), 50)
		c.MustRun("add", f)
		c.MustRun("share", "/"+fmt.Sprintf("spam-%02d.txt", i), "--with", ids[b])
	}
	waitFor(t, 30*time.Second, "the stranger's shares arrive", func() bool {
		n := 0
		for _, r := range sharedWith(t, b) {
			if r.From == ids[c] {
				n++
			}
		}
		return n >= 10
	})
	n := 0
	for _, r := range sharedWith(t, b) {
		if r.From == ids[c] {
			if r.Contact {
				t.Fatal("a stranger's share is listed as a contact's")
			}
			n++
		}
	}
	if n != 10 {
		t.Fatalf("B keeps %d shares from a stranger; the bound is 10 an hour", n)
	}
	if out := b.MustRun("shared"); !strings.Contains(out, "not in your contacts") || !strings.Contains(out, "alice") {
		t.Fatalf("peer shared lists strangers apart and contacts by name: %q", out)
	}
}
