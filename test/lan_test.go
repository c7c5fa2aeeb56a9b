// Package test runs real peer daemons on LANs made of network namespaces
// and checks, byte for byte, what they move. The tests need root; without
// it they skip and say so.
package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/internal/lantest"
)

// randomFile writes n random bytes to a file in dir and returns its path
// and SHA-256.
func randomFile(t *testing.T, dir string, n int64) (string, [32]byte) {
	t.Helper()
	p := filepath.Join(dir, "random.bin")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, n); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return p, sum
}

func fileSum(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func bitswapStat(t *testing.T, p *lantest.Peer) api.BitswapStat {
	t.Helper()
	var st api.BitswapStat
	if err := json.Unmarshal([]byte(p.MustRun("stats", "bitswap", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// mdnsPair starts nodes with mDNS on the LAN's first two hosts and returns
// once they have found each other.
func mdnsPair(t *testing.T, lan *lantest.LAN) (a, b *lantest.Peer) {
	a = lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{MDNS: true})
	b = lantest.NewPeer(t, lan.Hosts[1], lantest.PeerOptions{MDNS: true})
	a.Start()
	b.Start()
	b.MustRun("peers", "--wait", "1", "--timeout", "60s")
	return a, b
}

// TestMDNSTransfer: two nodes find each other by mDNS alone and move a
// 64 MiB random file; a third joins and fetches from both at once.
func TestMDNSTransfer(t *testing.T) {
	lan := lantest.New(t, 3)
	a, b := mdnsPair(t, lan)
	if !strings.Contains(a.MustRun("peers"), b.ID()) {
		t.Fatal("a does not list b as a peer")
	}

	src, sum := randomFile(t, t.TempDir(), 64<<20)
	cid := lastLine(a.MustRun("ipfs", "add", src))
	out := filepath.Join(t.TempDir(), "got")
	b.MustRun("ipfs", "get", cid, "-o", out)
	if fileSum(t, out) != sum {
		t.Fatal("b's copy differs from the file a added")
	}
	b.MustRun("ipfs", "pin", "add", cid)

	c := lantest.NewPeer(t, lan.Hosts[2], lantest.PeerOptions{MDNS: true})
	c.Start()
	c.MustRun("peers", "--wait", "2", "--timeout", "60s")
	sentA, sentB := bitswapStat(t, a).BlocksSent, bitswapStat(t, b).BlocksSent
	outC := filepath.Join(t.TempDir(), "got")
	c.MustRun("ipfs", "get", cid, "-o", outC)
	if fileSum(t, outC) != sum {
		t.Fatal("c's copy differs from the file a added")
	}
	// Bitswap sessions send want-blocks to the first peer that answers a
	// want-have, so the split between a and b varies from run to run (all
	// from one peer happens); both were asked, and c got every block.
	fromA, fromB := bitswapStat(t, a).BlocksSent-sentA, bitswapStat(t, b).BlocksSent-sentB
	t.Logf("c got %d blocks from a and %d from b", fromA, fromB)
	if got := bitswapStat(t, c).BlocksReceived; got < 65 || fromA+fromB < 65 {
		t.Fatalf("c received %d blocks, a and b sent %d; want at least 65", got, fromA+fromB)
	}
}

// TestRestartKeepsState: a node stopped and started again keeps its
// identity, pins and blocks.
func TestRestartKeepsState(t *testing.T) {
	lan := lantest.New(t, 1)
	a := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{})
	a.Start()
	id := a.ID()
	src, sum := randomFile(t, t.TempDir(), 5<<20+3)
	cid := lastLine(a.MustRun("ipfs", "add", src))
	stat := a.MustRun("repo", "stat", "--json")
	a.Stop()
	a.Start()
	if got := a.ID(); got != id {
		t.Fatalf("peer ID changed across restart: %s, then %s", id, got)
	}
	if !strings.Contains(a.MustRun("ipfs", "pin", "ls"), cid) {
		t.Fatal("pin lost across restart")
	}
	if got := a.MustRun("repo", "stat", "--json"); !sameBlocks(t, stat, got) {
		t.Fatalf("repo stat changed across restart: %s, then %s", stat, got)
	}
	if got := sha256.Sum256([]byte(a.MustRun("ipfs", "cat", cid))); got != sum {
		t.Fatal("file reads back different after restart")
	}
}

func sameBlocks(t *testing.T, x, y string) bool {
	var a, b api.RepoStat
	if json.Unmarshal([]byte(x), &a) != nil || json.Unmarshal([]byte(y), &b) != nil {
		t.Fatalf("bad repo stat JSON: %s / %s", x, y)
	}
	return a.Blocks == b.Blocks && a.BlockBytes == b.BlockBytes && a.Pins == b.Pins
}

// TestGC: repo gc keeps pinned DAGs and drops the rest.
func TestGC(t *testing.T) {
	lan := lantest.New(t, 1)
	a := lantest.NewPeer(t, lan.Hosts[0], lantest.PeerOptions{})
	a.Start()
	dir := t.TempDir()
	keep, keepSum := randomFile(t, dir, 3<<20)
	keepCID := lastLine(a.MustRun("ipfs", "add", keep))
	drop, _ := randomFile(t, t.TempDir(), 2<<20)
	dropCID := lastLine(a.MustRun("ipfs", "add", drop))
	a.MustRun("ipfs", "pin", "rm", dropCID)
	var res api.GCResult
	if err := json.Unmarshal([]byte(a.MustRun("repo", "gc", "--json")), &res); err != nil {
		t.Fatal(err)
	}
	if res.Removed != 3 { // two 1 MiB leaves and the root
		t.Fatalf("gc removed %d blocks; want 3", res.Removed)
	}
	if got := sha256.Sum256([]byte(a.MustRun("ipfs", "cat", keepCID))); got != keepSum {
		t.Fatal("pinned file damaged by gc")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := a.Cmd(ctx, "ipfs", "cat", dropCID).Run(); err == nil {
		t.Fatal("unpinned file still readable after gc")
	}
}

// slowPair starts two mDNS nodes joined by a 100 Mbit/s link (so a kill
// lands mid-transfer), with a 64 MiB random file added on a.
func slowPair(t *testing.T) (a, b *lantest.Peer, cid string, sum [32]byte) {
	lan := lantest.New(t, 2)
	for _, h := range lan.Hosts {
		if err := h.Shape("100mbit"); err != nil {
			t.Fatal(err)
		}
	}
	a, b = mdnsPair(t, lan)
	src, sum := randomFile(t, t.TempDir(), 64<<20)
	return a, b, lastLine(a.MustRun("ipfs", "add", src)), sum
}

// TestKilledSourceMidTransfer: the node serving a file is killed while a
// peer streams it, and restarted; the stream finishes with the right bytes.
func TestKilledSourceMidTransfer(t *testing.T) {
	a, b, cid, sum := slowPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cat := b.Cmd(ctx, "ipfs", "cat", cid)
	var stderr bytes.Buffer
	cat.Stderr = &stderr
	out, err := cat.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Start(); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, out, 8<<20); err != nil {
		t.Fatalf("reading the first 8 MiB: %v: %s", err, stderr.String())
	}
	a.Kill()
	a.Start()
	n, err := io.Copy(h, out)
	if err != nil || cat.Wait() != nil {
		t.Fatalf("stream after restart: %v: %s", err, stderr.String())
	}
	if n+8<<20 != 64<<20 || [32]byte(h.Sum(nil)) != sum {
		t.Fatalf("streamed %d bytes that differ from the file a added", n+8<<20)
	}
}

// TestKilledFetcherResumes: the fetching node is killed mid-download and
// restarted; a new get finishes with the right bytes, reusing what it had,
// and receives each block it lacked once. (It used to fail 1 run in 4:
// batches queued behind others on the slow link were asked for twice, and
// the source, which still had the killed process's connection, sent that
// process's wants to the new one.)
func TestKilledFetcherResumes(t *testing.T) {
	_, b, cid, sum := slowPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cat := b.Cmd(ctx, "ipfs", "cat", cid)
	out, err := cat.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, out, 4<<20); err != nil {
		t.Fatal(err)
	}
	b.Kill()
	cat.Process.Kill()
	cat.Wait()
	start := time.Now()
	b.Start()
	b.MustRun("peers", "--wait", "1", "--timeout", "60s")
	held := repoStat(t, b).Blocks
	t.Logf("b back and connected after %v; holds %d blocks", time.Since(start), held)
	got := filepath.Join(t.TempDir(), "got")
	b.MustRun("ipfs", "get", cid, "-o", got)
	if fileSum(t, got) != sum {
		t.Fatal("b's copy differs from the file a added")
	}
	bst := bitswapStat(t, b)
	added, received := repoStat(t, b).Blocks-held, bst.BlocksReceived
	t.Logf("get done after %v: %d blocks received (%d held already), %d stored", time.Since(start), received, bst.DupBlocks, added)
	// The blocks b stored before it was killed are not fetched again, and
	// none is asked for twice. One block may come unasked: a's Bitswap
	// worker can hold a block for the killed process when the new one
	// connects and a drops the old wants, and sends it on (seen once in
	// CI: 32 received, 31 stored). Asking twice made 6 of 65 come twice.
	if added >= 65 || received < uint64(added) || received > uint64(added)+1 {
		t.Fatalf("b received %d blocks after restart and stored %d new ones; want each missing block of the file's 65 once", received, added)
	}
}

func repoStat(t *testing.T, p *lantest.Peer) api.RepoStat {
	t.Helper()
	var st api.RepoStat
	if err := json.Unmarshal([]byte(p.MustRun("repo", "stat", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSlowLinkFetchesEachBlockOnce: on a link too slow to deliver a whole
// fetch window within the fetcher's stall timeout (the window asks for 64
// MiB at once; 100 Mbit/s take 5.4 s), batches queued behind the others
// are not asked for again, so each block crosses the link once. Batches
// that had waited 5 s for their first block used to be asked for again in
// a new session, and their blocks came twice (6 of 65 here): one cause of
// TestKilledFetcherResumes failing 1 run in 4 ("fetched 65 blocks").
func TestSlowLinkFetchesEachBlockOnce(t *testing.T) {
	lan := lantest.New(t, 2)
	for _, h := range lan.Hosts {
		if err := h.Shape("100mbit"); err != nil {
			t.Fatal(err)
		}
	}
	a, b := mdnsPair(t, lan)
	src, sum := randomFile(t, t.TempDir(), 64<<20)
	cid := lastLine(a.MustRun("ipfs", "add", src))
	got := filepath.Join(t.TempDir(), "got")
	start := time.Now()
	b.MustRun("ipfs", "get", cid, "-o", got)
	if fileSum(t, got) != sum {
		t.Fatal("b's copy differs from the file a added")
	}
	st := bitswapStat(t, b)
	t.Logf("64 MiB over 100 Mbit/s in %v: %d blocks, %d bytes received", time.Since(start).Round(time.Millisecond), st.BlocksReceived, st.DataReceived)
	if st.BlocksReceived != 65 { // 64 leaves and the root
		t.Fatalf("b received %d blocks for a file of 65", st.BlocksReceived)
	}
}

// TestKilledNodeKeepsWhatItStored: a node killed (SIGKILL) right after it
// finished a fetch still holds every block and the pin when restarted.
func TestKilledNodeKeepsWhatItStored(t *testing.T) {
	a, b := mdnsPair(t, lantest.New(t, 2))
	src, sum := randomFile(t, t.TempDir(), 16<<20)
	cid := lastLine(a.MustRun("ipfs", "add", src))
	b.MustRun("ipfs", "pin", "add", cid)
	before := b.MustRun("repo", "stat", "--json")
	b.Kill()
	a.Stop()
	b.Start()
	if after := b.MustRun("repo", "stat", "--json"); !sameBlocks(t, before, after) {
		t.Fatalf("killed node lost data: before %s after %s", before, after)
	}
	if got := sha256.Sum256([]byte(b.MustRun("ipfs", "cat", cid))); got != sum {
		t.Fatal("file reads back different after kill")
	}
}
