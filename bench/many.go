package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// many adds n files of 4 KiB (in 100 folders) with peer add on device A
// and times, from the add's start, until device B of the account (the
// two found by mDNS, over the emulated 1 Gbit/s link) lists them and has
// read every one back complete with peer get of the folder (issue 9).
// One add is one snapshot, and a device takes a head only once all of it
// is local, so the folder listed on B is the whole folder.
func (r *runner) many(n int) {
	lan := lantest.New(r, 2)
	for _, h := range lan.Hosts {
		if err := h.Shape("1gbit"); err != nil {
			r.Fatal(err)
		}
	}
	a := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true, LogLevel: logLevel()})
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	b := lantest.NewPeer(r, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Phrase: phrase, LogLevel: logLevel()})
	r.Cleanup(func() { r.saveLogs(map[string]*lantest.Peer{"many-a": a, "many-b": b}) })
	startProfiled(a, "many-a")
	startProfiled(b, "many-b")
	b.MustRun("peers", "--wait", "1", "--timeout", "60s")
	pb := lantest.StartProbe(r, b)
	dir := filepath.Join(r.TempDir(), "many")
	dirs := min(n, 100)
	files := map[string][]byte{}
	for k := range n {
		rel := filepath.Join(fmt.Sprintf("d%02d", k%dirs), fmt.Sprintf("f%05d", k))
		data := make([]byte, 4096)
		rand.Read(data)
		os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, rel), data, 0o644); err != nil {
			r.Fatal(err)
		}
		files[rel] = data
	}
	last := filepath.Join(fmt.Sprintf("d%02d", (n-1)%dirs), fmt.Sprintf("f%05d", n-1))
	began := time.Now()
	a.MustRun("add", dir)
	added := time.Now()
	if _, err := pb.Ask("cat /many/" + last); err != nil {
		r.Fatal(err)
	}
	listed := time.Now()
	out := filepath.Join(r.TempDir(), "got")
	b.MustRun("get", "/many", "-o", out)
	done := time.Now()
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(out, rel))
		if err != nil || !bytes.Equal(got, want) {
			r.Fatalf("many: %s on B is not what A added (%v)", rel, err)
		}
	}
	d := done.Sub(began)
	fmt.Printf("many: %d files of 4 KiB, peer add on A to all read back on B (peer get, checked): %.2f s, %.0f files/s (goal >= 2 000); add on A %.2f s, then on B %.2f s, then peer get %.2f s\n",
		n, d.Seconds(), float64(n)/d.Seconds(), added.Sub(began).Seconds(), listed.Sub(added).Seconds(), done.Sub(listed).Seconds())
	a.Stop()
	b.Stop()
	lan.Close()
}
