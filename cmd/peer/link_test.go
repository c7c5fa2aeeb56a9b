package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/repo"
)

// startLink runs 'peer link --yes' on the repo in-process and returns the
// link from its first line, and the command's exit code when it ends.
func startLink(t *testing.T, dir string, args ...string) (string, <-chan int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		defer cancel()
		c := run(ctx, append([]string{"--repo", dir, "link"}, args...), strings.NewReader(""), pw, &stderr)
		pw.Close()
		code <- c
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("peer link printed no line: %v", err)
	}
	go io.Copy(io.Discard, br)
	return strings.TrimSpace(line), code
}

// TestLinkJoinsAndSyncs: 'peer link --yes' on a running device, 'peer
// init --link' in a new repo, and the new device, once started, is a
// device of the account: a file added on the first shows on it. A typo
// and a reused link are refused and leave no repo behind.
func TestLinkJoinsAndSyncs(t *testing.T) {
	ra := testRepo(t)
	startDaemon(t, ra)
	uri, linked := startLink(t, ra.Dir, "--yes", "--expires", "1m")
	if !strings.HasPrefix(uri, "PEER-LINK:1:") || strings.ContainsAny(uri, " \t") {
		t.Fatalf("first line %q is not a link alone", uri)
	}

	// A mistyped link is refused before anything is sent or written.
	typo := []byte(uri)
	typo[len(typo)-3] ^= 'A' ^ 'B'
	bad := filepath.Join(t.TempDir(), "typo")
	if code, _, errOut := runPeer(t, "--repo", bad, "init", "--link", string(typo)); code == 0 || !strings.Contains(errOut, "mistyped") {
		t.Fatalf("a mistyped link: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Fatalf("a refused link left %s: %v", bad, err)
	}

	dirB := filepath.Join(t.TempDir(), "b")
	code, out, errOut := runPeer(t, "--repo", dirB, "init", "--link", strings.ToLower(uri), "--json")
	if code != 0 {
		t.Fatalf("init --link: exit %d: %s", code, errOut)
	}
	var res map[string]string
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if _, ok := res["recovery"]; ok || res["repo"] != dirB || res["device"] == "" || res["profile"] != "default" {
		t.Fatalf("init --link --json printed %v", res)
	}
	acctA := strings.TrimSpace(mustRun(t, "--repo", ra.Dir, "account", "--json"))
	if !strings.Contains(acctA, res["account"]) {
		t.Fatalf("joined account %s, the first device's is %s", res["account"], acctA)
	}
	select {
	case c := <-linked:
		if c != 0 {
			t.Fatalf("peer link exited %d", c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("peer link did not end once the device joined")
	}

	// Reused: refused, nothing written.
	again := filepath.Join(t.TempDir(), "again")
	if code, _, errOut := runPeer(t, "--repo", again, "init", "--link", uri); code == 0 || !strings.Contains(errOut, "used already") {
		t.Fatalf("a reused link: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(again); !os.IsNotExist(err) {
		t.Fatalf("a reused link left %s", again)
	}

	// The new device, started on loopback, follows the first.
	rb, err := repo.Open(dirB)
	if err != nil {
		t.Fatal(err)
	}
	if len(rb.Config.Network.Peers) != 1 || !strings.Contains(rb.Config.Network.Peers[0], "/p2p/") {
		t.Fatalf("the new device keeps peers %v", rb.Config.Network.Peers)
	}
	rb.Config.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	rb.Config.Network.MDNS = false
	rb.Config.API.Listen = "127.0.0.1:0"
	startDaemon(t, rb)
	src := filepath.Join(t.TempDir(), "hello.txt")
	os.WriteFile(src, []byte("from the first device"), 0o644)
	mustRun(t, "--repo", ra.Dir, "add", src)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, got, _ := runPeer(t, "--repo", dirB, "cat", "/hello.txt")
		if code == 0 && got == "from the first device" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file did not reach the linked device: exit %d, %q", code, got)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Both devices are listed on the first; removing the new one marks it.
	var devs []api.Device
	json.Unmarshal([]byte(mustRun(t, "--repo", ra.Dir, "devices", "--json")), &devs)
	if len(devs) != 2 || !devs[0].This || devs[1].ID != res["device"] || devs[1].Linked == nil || devs[1].Removed {
		t.Fatalf("devices on the first: %+v", devs)
	}
	if table := mustRun(t, "--repo", ra.Dir, "devices"); !strings.Contains(table, res["device"]) || !strings.Contains(table, "this device") {
		t.Fatalf("devices table:\n%s", table)
	}
	mustRun(t, "--repo", ra.Dir, "devices", "remove", res["device"][:12])
	json.Unmarshal([]byte(mustRun(t, "--repo", ra.Dir, "devices", "--json")), &devs)
	if len(devs) != 2 || !devs[1].Removed || devs[1].RemovedBy != devs[0].ID {
		t.Fatalf("devices after the removal: %+v", devs)
	}
	if code, _, _ := runPeer(t, "--repo", ra.Dir, "devices", "remove", devs[0].ID); code == 0 {
		t.Fatal("a device removed itself")
	}
}

// mustRun runs the peer command in-process and fails the test on a
// non-zero exit.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runPeer(t, args...)
	if code != 0 {
		t.Fatalf("peer %v: exit %d: %s", args, code, errOut)
	}
	return out
}
