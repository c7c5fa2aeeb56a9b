package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// share measures opening a link (issue 11): an owner and a node of
// another account on a namespace LAN (mDNS, the transport libp2p picks);
// the owner adds a fresh 1 MiB file and shares it, and the figure is
// 'peer cat LINK' on the other node, from the command's start to its last
// byte, for a link to the version and for a following link; then files
// shared with the other account, to its 'peer shared' listing them.
func (r *runner) share(links, shares int) {
	lan := lantest.New(r, 2)
	a := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true})
	b := lantest.NewPeer(r, lan.Hosts[1], lantest.PeerOptions{MDNS: true})
	a.Start()
	b.Start()
	for _, p := range []*lantest.Peer{a, b} {
		p.MustRun("peers", "--wait", "1", "--timeout", "60s")
	}
	dir := r.TempDir()
	data := make([]byte, 1<<20)
	retries := 0
	// cat times 'peer cat LINK' until it succeeds (bounded: a minute,
	// 100 tries): a following link made a moment ago may not be in the
	// record the reader finds yet; each retry is counted.
	cat := func(link string) time.Duration {
		start := time.Now()
		for try := 0; ; try++ {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			cmd := b.Cmd(ctx, "cat", link)
			cmd.Stdout = io.Discard
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			cancel()
			if err == nil {
				return time.Since(start)
			}
			if try >= 100 || time.Since(start) > time.Minute || !strings.Contains(stderr.String(), "lists no share") {
				r.Fatalf("peer cat %s: %v: %s", link, err, stderr.String())
			}
			retries++
		}
	}
	var version, follow []time.Duration
	for i := range links {
		f := filepath.Join(dir, fmt.Sprintf("share-%03d.bin", i))
		rand.Read(data)
		if err := os.WriteFile(f, data, 0o644); err != nil {
			r.Fatal(err)
		}
		a.MustRun("add", f)
		p := "/" + filepath.Base(f)
		version = append(version, cat(lastLine(a.MustRun("share", p))))
		// A new file again, so that the following link's blocks are not
		// held yet either.
		rand.Read(data)
		if err := os.WriteFile(f, data, 0o644); err != nil {
			r.Fatal(err)
		}
		a.MustRun("add", f)
		follow = append(follow, cat(lastLine(a.MustRun("share", p, "--follow"))))
	}
	fmt.Printf("share: a link to a 1 MiB file opened by a node of another account ('peer cat LINK', start to last byte, %d links, namespace LAN): p50 %.0f ms, p95 %.0f ms, max %.0f ms (goal p50 <= 150 ms)\n",
		links, ms(percentile(version, 0.5)), ms(percentile(version, 0.95)), ms(percentile(version, 1)))
	fmt.Printf("share: the same through a following link (the account's name resolved, its shares read): p50 %.0f ms, p95 %.0f ms, max %.0f ms\n",
		ms(percentile(follow, 0.5)), ms(percentile(follow, 0.95)), ms(percentile(follow, 1)))
	fmt.Printf("share: following links opened only on a retry: %d of %d tries\n", retries, links+retries)

	// Sharing with an online account: from 'peer add --share-with'
	// returning to the file listed in the recipient's 'peer shared'. (The
	// recipient's record is out: a node publishes an empty root when it
	// finds none of its account.)
	var acct struct{ Account string }
	if err := json.Unmarshal([]byte(b.MustRun("account", "--json")), &acct); err != nil {
		r.Fatal(err)
	}
	// B knows A (else at most 10 shares an hour from it are kept).
	var aAcct struct{ Account string }
	if err := json.Unmarshal([]byte(a.MustRun("account", "--json")), &aAcct); err != nil {
		r.Fatal(err)
	}
	b.MustRun("contacts", "add", aAcct.Account, "--name", "a")
	pb := lantest.StartProbe(r, b)
	var with []time.Duration
	for i := range shares {
		f := filepath.Join(dir, fmt.Sprintf("for-b-%03d.txt", i))
		if err := os.WriteFile(f, []byte(f), 0o644); err != nil {
			r.Fatal(err)
		}
		a.MustRun("add", f, "--share-with", acct.Account)
		with = append(with, r.ask(pb, "shared "+filepath.Base(f)))
	}
	fmt.Printf("share: 'peer add --share-with' returning to the file in the recipient's 'peer shared' (%d shares, namespace LAN): p50 %.1f ms, p95 %.1f ms, max %.1f ms (goal p50 <= 100 ms)\n",
		shares, ms(percentile(with, 0.5)), ms(percentile(with, 0.95)), ms(percentile(with, 1)))
	a.Stop()
	b.Stop()
	lan.Close()
}
