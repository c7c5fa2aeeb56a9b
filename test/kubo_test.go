package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// kubo runs a stock IPFS node (Kubo) in a namespace host, from the binary
// named by $PEER_KUBO.
type kubo struct {
	t    *testing.T
	h    *lantest.Host
	bin  string
	repo string
}

func (k *kubo) run(args ...string) string {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := k.h.Command(ctx, k.bin, args...)
	cmd.Env = append(os.Environ(), "IPFS_PATH="+k.repo)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		k.t.Fatalf("ipfs %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// TestKuboInterop: a stock IPFS node (Kubo, IPNS over pubsub on) on the
// same LAN resolves an account's name, and peer resolves a name Kubo
// publishes. Kubo is not installed by CI: set PEER_KUBO to an ipfs binary
// (v0.43) to run it.
func TestKuboInterop(t *testing.T) { kuboInterop(t, true) }

// TestKuboInteropDHTOnly is the same with Kubo's IPNS over pubsub off:
// the names go through the LAN DHT alone.
func TestKuboInteropDHTOnly(t *testing.T) { kuboInterop(t, false) }

func kuboInterop(t *testing.T, pubsub bool) {
	bin := os.Getenv("PEER_KUBO")
	if bin == "" {
		t.Skip("set PEER_KUBO to a Kubo (ipfs) binary to test interoperability with a stock IPFS node")
	}
	lan := lantest.New(t, 2)
	a := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{})
	a.Start()
	k := startKubo(t, bin, lan.Hosts[1], pubsub)
	k.run("swarm", "connect", a.Addr())

	src := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(src, []byte("published"), 0o644)
	a.MustRun("add", src)
	account := strings.Fields(a.MustRun("account"))[1]
	root := strings.TrimSpace(a.MustRun("resolve", account))
	var got string
	waitFor(t, 30*time.Second, "Kubo resolving the account", func() bool {
		cmd := k.h.Command(context.Background(), bin, "name", "resolve", "--nocache", "/ipns/"+account)
		cmd.Env = append(os.Environ(), "IPFS_PATH="+k.repo)
		out, err := cmd.Output()
		got = strings.TrimSpace(string(out))
		return err == nil && got == "/ipfs/"+root
	})

	// A published file, read by Kubo through the account's name.
	a.MustRun("publish", "/f.txt", "--yes")
	waitFor(t, 30*time.Second, "Kubo reading the public index", func() bool {
		cmd := k.h.Command(context.Background(), bin, "cat", "/ipns/"+account+"/public/f.txt")
		cmd.Env = append(os.Environ(), "IPFS_PATH="+k.repo)
		out, err := cmd.Output()
		return err == nil && string(out) == "published"
	})
	// And a file in a published folder.
	folder := filepath.Join(t.TempDir(), "site")
	os.MkdirAll(filepath.Join(folder, "css"), 0o755)
	os.WriteFile(filepath.Join(folder, "css", "a.css"), []byte("body{}"), 0o644)
	a.MustRun("add", folder)
	a.MustRun("publish", "/site", "--yes")
	// (Kubo keeps the name's last resolution for the record's TTL: resolve
	// it afresh, then read the path under that root.)
	waitFor(t, 30*time.Second, "Kubo reading a published folder", func() bool {
		cmd := k.h.Command(context.Background(), bin, "name", "resolve", "--nocache", "/ipns/"+account)
		cmd.Env = append(os.Environ(), "IPFS_PATH="+k.repo)
		out, err := cmd.Output()
		if err != nil {
			return false
		}
		cmd = k.h.Command(context.Background(), bin, "cat", strings.TrimSpace(string(out))+"/public/site/css/a.css")
		cmd.Env = append(os.Environ(), "IPFS_PATH="+k.repo)
		out, err = cmd.Output()
		return err == nil && string(out) == "body{}"
	})

	// A Kubo user mirrors the whole account (encrypted) by its name: the
	// pin walks the root's links, history included, and holds every block.
	k.run("pin", "add", "--progress=false", "/ipns/"+account)
	if refs := k.run("refs", "--recursive", "--unique", "/ipns/"+account); strings.Count(refs, "\n") < 5 {
		t.Fatalf("Kubo's pin of the account holds %d blocks; want the whole DAG", strings.Count(refs, "\n")+1)
	}

	// The other way: Kubo publishes its own name; peer resolves it.
	kid := k.run("id", "-f", "<id>")
	cid := k.run("add", "-q", "--cid-version", "1", src)
	k.run("name", "publish", "--allow-offline", "/ipfs/"+cid)
	waitFor(t, 30*time.Second, "peer resolving Kubo's name", func() bool {
		out, err := a.Run("resolve", kid)
		return err == nil && strings.TrimSpace(out) == cid
	})
}

// startKubo runs a Kubo daemon on h until the test ends.
func startKubo(t *testing.T, bin string, h *lantest.Host, pubsub bool) *kubo {
	t.Helper()
	k := &kubo{t: t, h: h, bin: bin, repo: filepath.Join(t.TempDir(), "kubo")}
	k.run("init", "--profile", "test")
	for _, kv := range [][]string{
		{"--json", "Addresses.Swarm", fmt.Sprintf(`["/ip4/%s/tcp/4001"]`, h.IP)},
		{"Routing.Type", "dhtserver"},
		{"--json", "Ipns.UsePubsub", fmt.Sprint(pubsub)},
		{"--json", "Pubsub.Enabled", "true"},
	} {
		k.run(append([]string{"config"}, kv...)...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	args := []string{"daemon"}
	if pubsub {
		args = append(args, "--enable-namesys-pubsub")
	}
	daemon := k.h.Command(ctx, bin, args...)
	daemon.Env = append(os.Environ(), "IPFS_PATH="+k.repo)
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); daemon.Wait() })
	waitFor(t, time.Minute, "Kubo's daemon", func() bool {
		_, err := os.Stat(filepath.Join(k.repo, "api"))
		return err == nil
	})
	return k
}

// TestKuboPinsThroughDonor (issue 12): a stock IPFS node pins through a
// donor's Pinning Service API ('ipfs pin remote'), and the donor fetches
// and keeps the DAG.
func TestKuboPinsThroughDonor(t *testing.T) {
	bin := os.Getenv("PEER_KUBO")
	if bin == "" {
		t.Skip("set PEER_KUBO to a Kubo (ipfs) binary to test interoperability with a stock IPFS node")
	}
	lan := lantest.New(t, 2)
	endpoint := lan.Hosts[0].IP + ":5011"
	d := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{Config: []string{`pinning_listen = "` + endpoint + `"`}})
	d.Start()
	k := startKubo(t, bin, lan.Hosts[1], false)
	k.run("swarm", "connect", d.Addr())
	token := lastLine(d.MustRun("donate", "pinning-token"))
	src := filepath.Join(t.TempDir(), "album.bin")
	data := make([]byte, 3<<20)
	rand.Read(data)
	os.WriteFile(src, data, 0o644)
	c := k.run("add", "-q", "--cid-version", "1", src)
	k.run("pin", "remote", "service", "add", "donor", "http://"+endpoint, token)
	k.run("pin", "remote", "add", "--service=donor", "--name=album", c)
	if out := k.run("pin", "remote", "ls", "--service=donor", "--name=album"); !strings.Contains(out, c) {
		t.Fatalf("Kubo's remote pins: %q", out)
	}
	if out := d.MustRun("ipfs", "pin", "ls"); !strings.Contains(out, c) {
		t.Fatalf("the donor's pins do not hold %s: %q", c, out)
	}
	if got := d.MustRun("ipfs", "cat", c); got != string(data) {
		t.Fatal("the donor holds other bytes than Kubo added")
	}
}
