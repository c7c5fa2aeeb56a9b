package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/internal/lantest"
)

// probe runs inside a node's namespace (the bench starts it there) and
// times what the node sees, talking to its API directly so no process
// start is in the figure. It reads commands from stdin and answers each
// with a duration in nanoseconds:
//
//	ls DIR NAME       wait (polling every millisecond, up to 10 s) until NAME is in DIR
//	resolve ACCOUNT   resolve the account's name through the DHT alone
func probe(args []string) {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bench probe API-URL TOKEN")
		os.Exit(2)
	}
	c := &api.Client{Base: args[0], Token: args[1]}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var err error
		switch {
		case len(f) == 3 && f[0] == "ls":
			for {
				var es []api.Entry
				if es, err = c.VaultLs(ctx, f[1]); err == nil && slices.ContainsFunc(es, func(e api.Entry) bool { return e.Name == f[2] }) {
					break
				}
				if ctx.Err() != nil {
					err = fmt.Errorf("%s not in %s within 10 s", f[2], f[1])
					break
				}
				time.Sleep(time.Millisecond)
			}
		case len(f) == 2 && f[0] == "resolve":
			_, err = c.Resolve(ctx, f[1], true)
		default:
			err = fmt.Errorf("unknown probe command %q", sc.Text())
		}
		cancel()
		if err != nil {
			fmt.Println("error", err)
			continue
		}
		fmt.Println(time.Since(start).Nanoseconds())
	}
}

// prober is a running probe in a node's namespace.
type prober struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

func (r *runner) startProbe(p *lantest.Peer) *prober {
	self, err := os.Executable()
	if err != nil {
		r.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join(p.Repo, "api.token"))
	if err != nil {
		r.Fatal(err)
	}
	addr, err := os.ReadFile(filepath.Join(p.Repo, "api.addr"))
	if err != nil {
		r.Fatal(err)
	}
	cmd := p.Host.Command(context.Background(), self, "probe", strings.TrimSpace(string(addr)), strings.TrimSpace(string(tok)))
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		r.Fatal(err)
	}
	r.Cleanup(func() { in.Close(); cmd.Wait() })
	return &prober{in: in, out: bufio.NewScanner(out)}
}

// ask sends one command and returns the probe's duration.
func (pr *prober) ask(r *runner, cmd string) time.Duration {
	fmt.Fprintln(pr.in, cmd)
	if !pr.out.Scan() {
		r.Fatal("probe ended")
	}
	var ns int64
	if _, err := fmt.Sscan(pr.out.Text(), &ns); err != nil {
		r.Fatalf("probe: %s", pr.out.Text())
	}
	return time.Duration(ns)
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

// sync measures how long a change on one device takes to show on a second
// device of the account, and how long a DHT resolution takes.
func (r *runner) sync(changes int) {
	lan := lantest.New(r, 3)
	a := lantest.NewPeer(r, lan.Hosts[0], lantest.PeerOptions{MDNS: true})
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	b := lantest.NewPeer(r, lan.Hosts[1], lantest.PeerOptions{MDNS: true, Phrase: phrase})
	c := lantest.NewPeer(r, lan.Hosts[2], lantest.PeerOptions{MDNS: true})
	a.Start()
	b.Start()
	c.Start()
	b.MustRun("peers", "--wait", "2", "--timeout", "60s")
	c.MustRun("peers", "--wait", "2", "--timeout", "60s")
	pb := r.startProbe(b)
	dir := r.TempDir()
	var lat []time.Duration
	for i := range changes {
		name := fmt.Sprintf("change-%03d.txt", i)
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(name), 0o644); err != nil {
			r.Fatal(err)
		}
		a.MustRun("add", f)
		lat = append(lat, pb.ask(r, "ls / "+name))
	}
	fmt.Printf("second device sees a change (peer add on A returns -> listed on B), %d changes: p50 %.1f ms, p95 %.1f ms, max %.1f ms; goal p50 < 100 ms, p95 < 500 ms\n",
		changes, ms(percentile(lat, 0.5)), ms(percentile(lat, 0.95)), ms(percentile(lat, 1)))
	account := strings.Fields(a.MustRun("account"))[1]
	pc := r.startProbe(c)
	var res []time.Duration
	for range 20 {
		res = append(res, pc.ask(r, "resolve "+account))
	}
	fmt.Printf("resolving an account through the DHT alone, 3-node LAN, 20 times: p50 %.2f ms, max %.2f ms\n", ms(percentile(res, 0.5)), ms(percentile(res, 1)))
	a.Stop()
	b.Stop()
	c.Stop()
	lan.Close()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
