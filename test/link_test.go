package test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// TestLinkOverLAN: on a namespace LAN, 'peer link --yes' on a running
// device and 'peer init --link' on a second host make the second a device
// of the account (no phrase typed); a change on either shows on the
// other; removing it makes the first list it as removed and the second
// learn it was removed.
func TestLinkOverLAN(t *testing.T) {
	lan := lantest.New(t, 2)
	a := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{MDNS: true})
	a.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := a.Host.Command(ctx, a.Bin, "link", "--yes", "--expires", "2m")
	cmd.Env = append(os.Environ(), "PEER_PATH="+a.Repo)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(out)
	uri, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("peer link printed no link: %v", err)
	}
	go io.Copy(io.Discard, br)
	uri = strings.TrimSpace(uri)
	if !strings.Contains(uri, "PEER-LINK:1:") {
		t.Fatalf("first line %q", uri)
	}
	b := lantest.NewPeer(t, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Link: uri})
	if err := cmd.Wait(); err != nil {
		t.Fatalf("peer link: %v", err)
	}
	b.Start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("A's log:\n%s\nB's log:\n%s", a.Logs(), b.Logs())
		}
	})
	var sa, sb struct{ Account, Device string }
	json.Unmarshal([]byte(a.MustRun("status", "--json")), &sa)
	json.Unmarshal([]byte(b.MustRun("status", "--json")), &sb)
	if sa.Account == "" || sa.Account != sb.Account || sa.Device == sb.Device {
		t.Fatalf("devices %+v and %+v: want one account, two devices", sa, sb)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "linked.txt")
	os.WriteFile(src, []byte("written on A"), 0o644)
	a.MustRun("add", src)
	waitFor(t, 30*time.Second, "A's file on the linked device", func() bool { return lsHas(b, "/", "linked.txt") })
	os.WriteFile(src, []byte("changed on B"), 0o644)
	b.MustRun("add", src)
	waitFor(t, 30*time.Second, "B's change on A", func() bool {
		got, err := a.Run("cat", "/linked.txt")
		return err == nil && got == "changed on B"
	})

	a.MustRun("devices", "remove", sb.Device)
	waitFor(t, 30*time.Second, "B learning it was removed", func() bool {
		var devs []struct {
			ID      string
			This    bool
			Removed bool
		}
		json.Unmarshal([]byte(b.MustRun("devices", "--json")), &devs)
		for _, d := range devs {
			if d.ID == sb.Device {
				return d.Removed && d.This
			}
		}
		return false
	})
	// What B writes now stays on B.
	other := filepath.Join(dir, "after-removal.txt")
	os.WriteFile(other, []byte("x"), 0o644)
	b.MustRun("add", other)
	more := filepath.Join(dir, "still-synced.txt")
	os.WriteFile(more, []byte("y"), 0o644)
	a.MustRun("add", more)
	waitFor(t, 30*time.Second, "B saying it no longer publishes", func() bool {
		var st struct {
			PublishErr string `json:"publish_error"`
		}
		json.Unmarshal([]byte(b.MustRun("status", "--json")), &st)
		return strings.Contains(st.PublishErr, "removed")
	})
	if lsHas(a, "/", "after-removal.txt") {
		t.Fatal("A took in a change of the removed device")
	}
}
