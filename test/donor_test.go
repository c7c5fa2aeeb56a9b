package test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/internal/lantest"
)

// TestDonorServesAbsentOwner (issue 12): real daemons on a namespace LAN.
// A donor with no account of its own (donor.only) serves A's account;
// once A is stopped, a new device of the account, B, gets everything
// from the donor alone (the name and every block), bytes compared; and
// no file of the donor's repo holds A's account secret or the plaintext.
func TestDonorServesAbsentOwner(t *testing.T) {
	lan := lantest.New(t, 3)
	a := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{MDNS: true})
	a.Start()
	var acct api.Account
	if err := json.Unmarshal([]byte(a.MustRun("account", "--json")), &acct); err != nil {
		t.Fatal(err)
	}
	d := lantest.NewPeer(t, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Config: []string{
		"only = true", `accounts = ["` + acct.Account + `"]`}})
	d.Start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("A's log:\n%s\ndonor's log:\n%s", a.Logs(), d.Logs())
		}
	})
	a.MustRun("peers", "--wait", "1", "--timeout", "60s")

	dir := t.TempDir()
	marker := []byte("peer-donor-lan-marker-5d1e0a")
	small := append(append([]byte{}, marker...), '\n')
	big := make([]byte, 3<<20+777)
	rand.Read(big)
	for name, data := range map[string][]byte{"marker.txt": small, "big.bin": big} {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		a.MustRun("add", f)
	}
	if err := json.Unmarshal([]byte(a.MustRun("account", "--json")), &acct); err != nil {
		t.Fatal(err)
	}
	if _, err := lantest.StartProbe(t, d).Ask("donor " + acct.Head); err != nil {
		t.Fatalf("the donor does not hold A's head: %v", err)
	}
	a.Stop()

	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	b := lantest.NewPeer(t, lan.Hosts[2], lantest.PeerOptions{MDNS: true, Phrase: phrase})
	b.Start()
	pb := lantest.StartProbe(t, b)
	for name, data := range map[string][]byte{"marker.txt": small, "big.bin": big} {
		if _, err := pb.Ask("cat /" + name); err != nil {
			t.Fatalf("B does not get /%s from the donor alone: %v\nB's log:\n%s", name, err, b.Logs())
		}
		if got := b.MustRun("cat", "/"+name); got != string(data) {
			t.Fatalf("B's /%s differs from what A wrote (%d bytes, want %d)", name, len(got), len(data))
		}
	}

	d.Stop()
	secret, err := os.ReadFile(filepath.Join(a.Repo, "account.key"))
	if err != nil || len(secret) != 32 {
		t.Fatalf("A's account secret: %v", err)
	}
	filepath.WalkDir(d.Repo, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for what, needle := range map[string][]byte{"A's account secret": secret, "the plaintext": marker} {
			if bytes.Contains(data, needle) {
				t.Errorf("the donor's %s holds %s", p, what)
			}
		}
		return nil
	})
}
