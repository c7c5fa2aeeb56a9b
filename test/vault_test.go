package test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// TestInitAndRecover runs peer init --json and recovers the same account
// from its phrase on stdin, with no terminal.
func TestInitAndRecover(t *testing.T) {
	bin := lantest.PeerBinary(t)
	run := func(stdin string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "PEER_PATH="+filepath.Join(t.TempDir(), "repo"))
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("peer %v: %v", args, err)
		}
		return out
	}
	var first, second struct{ Account, Device, Recovery string }
	if err := json.Unmarshal(run("", "init", "--json"), &first); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.Account, "k51") || first.Device == "" || len(strings.Fields(first.Recovery)) != 24 {
		t.Fatalf("init --json gave %+v", first)
	}
	if err := json.Unmarshal(run(first.Recovery+"\n", "init", "--recover", "--json"), &second); err != nil {
		t.Fatal(err)
	}
	if second.Account != first.Account || second.Device == first.Device {
		t.Fatalf("recovered %+v from %+v: want the same account on a new device", second, first)
	}
	cmd := exec.Command(bin, "init", "--recover")
	cmd.Env = append(os.Environ(), "PEER_PATH="+filepath.Join(t.TempDir(), "repo"))
	cmd.Stdin = strings.NewReader("not the right words\n")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "recovery phrase") {
		t.Fatalf("a wrong phrase gave %v: %s", err, out)
	}
}

// TestVaultContract runs the commands of the vault as a user would, with
// a real daemon: add, get, versions, restore, repo stat, and a kill -9
// right after an add.
func TestVaultContract(t *testing.T) {
	lan := lantest.New(t, 1)
	a := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{})
	a.Start()
	dir := t.TempDir()
	src := filepath.Join(dir, "report.bin")
	v1 := make([]byte, 3<<20+11)
	io.ReadFull(rand.Reader, v1)
	if err := os.WriteFile(src, v1, 0o644); err != nil {
		t.Fatal(err)
	}
	a.MustRun("add", src)
	out := filepath.Join(dir, "out1")
	a.MustRun("get", "/report.bin", "-o", out)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, v1) {
		t.Fatal("peer get wrote different bytes")
	}
	// A new version: the middle MiB changes.
	v2 := bytes.Clone(v1)
	io.ReadFull(rand.Reader, v2[1<<20:2<<20])
	if err := os.WriteFile(src, v2, 0o644); err != nil {
		t.Fatal(err)
	}
	a.MustRun("add", src)
	var versions []struct {
		ID   string `json:"id"`
		Size uint64 `json:"size"`
		Time time.Time
	}
	if err := json.Unmarshal([]byte(a.MustRun("history", "/report.bin", "--json")), &versions); err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0].Time.Before(versions[1].Time) {
		t.Fatalf("history: %+v", versions)
	}
	old := filepath.Join(dir, "old")
	a.MustRun("restore", "/report.bin", "--version", versions[1].ID, "-o", old)
	if got, _ := os.ReadFile(old); !bytes.Equal(got, v1) {
		t.Fatal("restore -o wrote different bytes than the first version")
	}
	if got := []byte(a.MustRun("cat", "/report.bin")); !bytes.Equal(got, v2) {
		t.Fatal("peer cat gives other bytes than the newest version")
	}
	var st struct {
		Stored  int64  `json:"stored_bytes"`
		Logical uint64 `json:"logical_bytes"`
	}
	if err := json.Unmarshal([]byte(a.MustRun("repo", "stat", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	// Two versions share all but the chunks around the changed MiB.
	if st.Logical != uint64(len(v2)) || st.Stored < int64(len(v1)) || st.Stored > int64(len(v1))+3<<20 {
		t.Fatalf("repo stat: %+v", st)
	}

	// kill -9 right after an add: the add is there after a restart.
	other := filepath.Join(dir, "after-kill.txt")
	os.WriteFile(other, []byte("still here"), 0o644)
	a.MustRun("add", other, "--to", "/inbox")
	a.Kill()
	a.Start()
	if got := a.MustRun("cat", "/inbox/after-kill.txt"); got != "still here" {
		t.Fatalf("after kill -9: %q", got)
	}
	if got := []byte(a.MustRun("cat", "/report.bin")); !bytes.Equal(got, v2) {
		t.Fatal("after kill -9 the newest version differs")
	}
}
