package test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// fdev is a device of a test account on a namespace LAN that syncs the
// local folder Dir with the vault folder /Shared.
type fdev struct {
	*lantest.Peer
	Dir  string
	Name string // A, B, C
}

// folderDevices starts n devices of one account on an n-host LAN,
// finding each other by mDNS, and has each sync a folder of its own with
// /Shared; before is called with each device's folder before it is
// added (to put files there).
func folderDevices(t *testing.T, n int, before func(i int, dir string)) (*lantest.LAN, []*fdev) {
	t.Helper()
	lan := lantest.New(t, n)
	// PEER_TEST_LOGLEVEL=debug: the daemons' log level.
	level := os.Getenv("PEER_TEST_LOGLEVEL")
	a := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{MDNS: true, LogLevel: level})
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	devs := []*fdev{{Peer: a}}
	for i := 1; i < n; i++ {
		devs = append(devs, &fdev{Peer: lantest.NewPeer(t, lan.Hosts[i], lantest.PeerOptions{MDNS: true, Phrase: phrase, LogLevel: level})})
	}
	for i, d := range devs {
		d.Name = string(rune('A' + i))
		d.Dir = filepath.Join(t.TempDir(), "folder-"+d.Name)
		if err := os.MkdirAll(d.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if before != nil {
			before(i, d.Dir)
		}
		startProfiled(d)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, d := range devs {
				st, _ := d.Run("sync", "status", "--json")
				t.Logf("%s's sync status: %.3000s", d.Name, st)
				t.Logf("%s's log (tail):\n%s", d.Name, tail(d.Logs(), 6000))
			}
		}
	})
	for _, d := range devs {
		d.MustRun("peers", "--wait", fmt.Sprint(n-1), "--timeout", "60s")
	}
	for _, d := range devs {
		d.MustRun("sync", "add", d.Dir, "--to", "/Shared")
	}
	return lan, devs
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// tree reads a synced folder as path -> "dir" or the SHA-256 of the
// file, leaving out peer's own names (marker, .peerignore, temporary
// files).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m, err := readTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readTree(dir string) (map[string]string, error) {
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p != dir {
			return nil // removed by the sync meanwhile
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		name := de.Name()
		if rel == ".peer-folder" || rel == ".peerignore" || (strings.HasPrefix(name, ".peer.") && strings.HasSuffix(name, ".tmp")) {
			if de.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if de.IsDir() {
			m[rel] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // renamed or removed by the sync meanwhile
		}
		if err != nil {
			return err
		}
		m[rel] = sum(b)
		return nil
	})
	return m, err
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// converged waits until every device's folder holds the same tree and
// check (if any) holds for it; it returns the tree.
func converged(t *testing.T, bound time.Duration, devs []*fdev, check func(map[string]string) bool) map[string]string {
	t.Helper()
	var last []map[string]string
	end := time.Now().Add(bound)
	for time.Now().Before(end) {
		last = last[:0]
		same := true
		for _, d := range devs {
			m, err := readTree(d.Dir)
			if err != nil {
				same = false // a file went away while read: look again
				break
			}
			last = append(last, m)
			if !maps.Equal(m, last[0]) {
				same = false
			}
		}
		if same && (check == nil || check(last[0])) {
			return last[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, m := range last {
		t.Logf("%s's tree: %s", devs[i].Name, showTree(m))
	}
	t.Fatalf("the folders did not converge within %s", bound)
	return nil
}

func showTree(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for _, k := range keys {
		v := m[k]
		if v != "dir" {
			v = v[:8]
		}
		fmt.Fprintf(&b, "\n  %s %s", k, v)
	}
	return b.String()
}

// folderStatus is what the tests read of 'peer sync status --json'.
type folderStatus struct {
	State     string    `json:"state"`
	Pending   int       `json:"pending"`
	LastError string    `json:"last_error"`
	LastScan  time.Time `json:"last_scan"`
	Files     int       `json:"files"`
	OutOfSync []struct {
		Path, Reason string
	} `json:"out_of_sync"`
}

func (d *fdev) status(t *testing.T) folderStatus {
	t.Helper()
	var ss []folderStatus
	out, err := d.Run("sync", "status", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &ss); err != nil || len(ss) != 1 {
		t.Fatalf("sync status %q: %v", out, err)
	}
	return ss[0]
}

// scanned waits until the device scanned its folder after since and has
// nothing pending: what the disk held at since is in its vault.
func (d *fdev) scanned(t *testing.T, since time.Time, bound time.Duration) {
	t.Helper()
	end := time.Now().Add(bound)
	var st folderStatus
	for time.Now().Before(end) {
		st = d.status(t)
		if st.LastScan.After(since) && st.Pending == 0 && st.State == "idle" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not scan its folder within %s: %+v", d.Name, bound, st)
}

func write(t *testing.T, dir, rel string, b []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func setLinks(t *testing.T, lan *lantest.LAN, up bool, hosts ...int) {
	t.Helper()
	for _, i := range hosts {
		if err := lan.Hosts[i].SetLink(up); err != nil {
			t.Fatal(err)
		}
	}
}

// waitPeers waits until every device is connected to the n-1 others.
func waitPeers(t *testing.T, devs []*fdev) {
	t.Helper()
	for _, d := range devs {
		d.MustRun("peers", "--wait", fmt.Sprint(len(devs)-1), "--timeout", "60s")
	}
}

// stable checks, for d, that every device's folder keeps holding want.
func stable(t *testing.T, d time.Duration, devs []*fdev, want map[string]string) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		for _, dv := range devs {
			if m := tree(t, dv.Dir); !maps.Equal(m, want) {
				t.Fatalf("%s's folder changed after converging: %s", dv.Name, showTree(m))
			}
		}
	}
}

// startProfiled starts the device's daemon; with PEER_TEST_PROFILE=DIR
// it writes a CPU profile of its run to DIR/NAME.prof (the test's name
// and the device's).
func startProfiled(d *fdev) {
	if dir := os.Getenv("PEER_TEST_PROFILE"); dir != "" {
		os.Setenv("PEER_CPUPROFILE", filepath.Join(dir, d.Name+".prof"))
		defer os.Unsetenv("PEER_CPUPROFILE")
	}
	d.Start()
}
