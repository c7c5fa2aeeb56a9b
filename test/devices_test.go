package test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// devicePair makes two devices of one account on the LAN's first two
// hosts (the second recovered from the first's phrase), finding each other
// by mDNS, and starts them.
func devicePair(t *testing.T, lan *lantest.LAN) (a, b *lantest.Peer) {
	level := os.Getenv("PEER_TEST_LOGLEVEL")
	a = lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{MDNS: true, LogLevel: level})
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	b = lantest.NewPeer(t, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Phrase: phrase, LogLevel: level})
	a.Start()
	b.Start()
	b.MustRun("peers", "--wait", "1", "--timeout", "60s")
	return a, b
}

// waitFor runs check every 20 ms until it holds or the bound passes.
func waitFor(t *testing.T, bound time.Duration, what string, check func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < bound {
		if check() {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s", what, bound)
	return 0
}

func lsHas(p *lantest.Peer, dir, name string) bool {
	out, err := p.Run("ls", dir)
	return err == nil && slices.Contains(strings.Fields(out), name)
}

func head(t *testing.T, p *lantest.Peer) string {
	t.Helper()
	var st struct{ Head string }
	if err := json.Unmarshal([]byte(p.MustRun("status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st.Head
}

// TestSecondDevice: a change on one device shows on the other, both ways;
// the same account; a restarted device catches up.
func TestSecondDevice(t *testing.T) {
	lan := lantest.New(t, 2)
	a, b := devicePair(t, lan)
	var sa, sb struct{ Account, Device string }
	json.Unmarshal([]byte(a.MustRun("status", "--json")), &sa)
	json.Unmarshal([]byte(b.MustRun("status", "--json")), &sb)
	if sa.Account != sb.Account || sa.Device == sb.Device {
		t.Fatalf("devices %+v and %+v: want one account, two devices", sa, sb)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "notes.txt")
	os.WriteFile(src, []byte("written on A"), 0o644)
	a.MustRun("add", src)
	took := waitFor(t, 20*time.Second, "A's file on B", func() bool { return lsHas(b, "/", "notes.txt") })
	t.Logf("A's add visible on B after %s", took)
	if got := b.MustRun("cat", "/notes.txt"); got != "written on A" {
		t.Fatalf("B reads %q", got)
	}
	os.WriteFile(src, []byte("changed on B"), 0o644)
	b.MustRun("add", src)
	waitFor(t, 20*time.Second, "B's change on A", func() bool {
		out, err := a.Run("cat", "/notes.txt")
		return err == nil && out == "changed on B"
	})
	var vs []struct{ Device string }
	json.Unmarshal([]byte(a.MustRun("history", "/notes.txt", "--json")), &vs)
	if len(vs) != 2 || vs[0].Device != sb.Device || vs[1].Device != sa.Device {
		t.Fatalf("history on A: %+v", vs)
	}

	// B goes away; A changes; B comes back and catches up.
	b.Stop()
	other := filepath.Join(dir, "while-away.txt")
	os.WriteFile(other, []byte("x"), 0o644)
	a.MustRun("add", other)
	b.Start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("B's log:\n%s\nA's log:\n%s", b.Logs(), a.Logs())
		}
	})
	waitFor(t, 60*time.Second, "B catching up after a restart", func() bool { return lsHas(b, "/", "while-away.txt") })
	if head(t, a) != head(t, b) {
		t.Fatal("heads differ after catching up")
	}

	// A restarted publishes a higher sequence number than before.
	before := recordSeq(t, a)
	a.Stop()
	a.Start()
	os.WriteFile(other, []byte("after A's restart"), 0o644)
	a.MustRun("add", other)
	waitFor(t, 20*time.Second, "A's change after its restart on B", func() bool {
		out, err := b.Run("cat", "/while-away.txt")
		return err == nil && out == "after A's restart"
	})
	if after := recordSeq(t, a); after <= before {
		t.Fatalf("A published record %d after a restart, %d before", after, before)
	}
}

// recordSeq is the sequence number of the node's last IPNS record.
func recordSeq(t *testing.T, p *lantest.Peer) uint64 {
	t.Helper()
	var st struct {
		LastPublish struct{ Seq uint64 } `json:"last_publish"`
	}
	if err := json.Unmarshal([]byte(p.MustRun("status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st.LastPublish.Seq
}

// TestOfflineEditsConverge: both devices change the vault while apart,
// including the same file; when they meet, both end at one head that
// keeps every change, the concurrent edit as a conflict copy.
func TestOfflineEditsConverge(t *testing.T) {
	lan := lantest.New(t, 2)
	a, b := devicePair(t, lan)
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared.txt")
	os.WriteFile(shared, []byte("v1"), 0o644)
	a.MustRun("add", shared)
	waitFor(t, 20*time.Second, "first file on B", func() bool { return lsHas(b, "/", "shared.txt") })

	b.Stop()
	os.WriteFile(shared, []byte("A's edit"), 0o644)
	fa := filepath.Join(dir, "from-a.txt")
	os.WriteFile(fa, []byte("a"), 0o644)
	a.MustRun("add", shared, fa)
	a.Stop()

	b.Start()
	os.WriteFile(shared, []byte("B's edit, longer"), 0o644)
	fb := filepath.Join(dir, "from-b.txt")
	os.WriteFile(fb, []byte("b"), 0o644)
	b.MustRun("add", shared, fb)

	a.Start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("B's log:\n%s\nA's log:\n%s", b.Logs(), a.Logs())
		}
	})
	b.MustRun("peers", "--wait", "1", "--timeout", "60s")
	waitFor(t, 90*time.Second, "the devices converging", func() bool {
		ha, hb := head(t, a), head(t, b)
		return ha != "" && ha == hb && lsHas(a, "/", "from-b.txt") && lsHas(b, "/", "from-a.txt")
	})
	for _, p := range []*lantest.Peer{a, b} {
		names := strings.Fields(p.MustRun("ls", "/"))
		var conflict string
		for _, n := range names {
			if strings.HasPrefix(n, "shared.sync-conflict-") {
				conflict = n
			}
		}
		if conflict == "" {
			t.Fatalf("no conflict copy in %v", names)
		}
		got := []string{p.MustRun("cat", "/shared.txt"), p.MustRun("cat", "/"+conflict)}
		slices.Sort(got)
		if !slices.Equal(got, []string{"A's edit", "B's edit, longer"}) {
			t.Fatalf("the two edits are %q", got)
		}
	}
}

// TestChangesThroughDHTAlone: with pubsub off on both devices, a change
// still reaches the other device, through the LAN DHT.
func TestChangesThroughDHTAlone(t *testing.T) {
	lan := lantest.New(t, 2)
	opts := lantest.PeerOptions{MDNS: true, Config: []string{"pubsub = false", `catch_up_interval = "500ms"`}}
	a := lantest.NewPeer(t, lan.Hosts[0], opts)
	opts.Phrase = strings.TrimSpace(a.MustRun("account", "phrase"))
	b := lantest.NewPeer(t, lan.Hosts[1], opts)
	a.Start()
	b.Start()
	b.MustRun("peers", "--wait", "1", "--timeout", "60s")
	src := filepath.Join(t.TempDir(), "via-dht.txt")
	os.WriteFile(src, []byte("found through the DHT"), 0o644)
	a.MustRun("add", src)
	took := waitFor(t, 30*time.Second, "A's change on B through the DHT", func() bool { return lsHas(b, "/", "via-dht.txt") })
	t.Logf("visible on B through the DHT after %s", took)
	var st struct {
		LastPublish struct{ PubsubPeers int } `json:"last_publish"`
	}
	json.Unmarshal([]byte(a.MustRun("status", "--json")), &st)
	if st.LastPublish.PubsubPeers != 0 {
		t.Fatalf("pubsub off, yet the record went to %d pubsub peers", st.LastPublish.PubsubPeers)
	}
	if got := b.MustRun("cat", "/via-dht.txt"); got != "found through the DHT" {
		t.Fatalf("B reads %q", got)
	}
}

// deviceTrio starts three devices of one account on the LAN's first three
// hosts and waits until each is connected to the other two.
func deviceTrio(t *testing.T, lan *lantest.LAN) []*lantest.Peer {
	t.Helper()
	a := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{MDNS: true})
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	b := lantest.NewPeer(t, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Phrase: phrase})
	c := lantest.NewPeer(t, lan.Hosts[2], lantest.PeerOptions{MDNS: true, Phrase: phrase})
	devs := []*lantest.Peer{a, b, c}
	for _, p := range devs {
		p.Start()
	}
	for _, p := range devs {
		p.MustRun("peers", "--wait", "2", "--timeout", "60s")
	}
	return devs
}

// TestThreeDevicesConverge: three devices of one account each change the
// vault at once, twice; all end at one head holding every change.
func TestThreeDevicesConverge(t *testing.T) {
	lan := lantest.New(t, 3)
	devs := deviceTrio(t, lan)
	dir := t.TempDir()
	var names []string
	for round := range 2 {
		done := make(chan error, len(devs))
		for i, p := range devs {
			name := fmt.Sprintf("r%d-dev%d.txt", round, i)
			names = append(names, name)
			f := filepath.Join(dir, name)
			os.WriteFile(f, []byte(name), 0o644)
			go func() { _, err := p.Run("add", f); done <- err }()
		}
		for range devs {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range devs {
				t.Logf("device %d head %s ls %q\n%s", i, head(t, p), p.MustRun("ls", "/"), p.Logs())
			}
		}
	})
	waitFor(t, 30*time.Second, "three devices converging", func() bool {
		h := head(t, devs[0])
		for _, p := range devs {
			if head(t, p) != h {
				return false
			}
			for _, n := range names {
				if !lsHas(p, "/", n) {
					return false
				}
			}
		}
		return true
	})
}
