package lantest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Probe is a running probe (internal/lantest/cmd/probe) in a node's
// namespace: it times what the node sees through its API, without a
// process start per look.
type Probe struct {
	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Scanner
}

// StartProbe starts a probe for p's running daemon; it ends with the test.
func StartProbe(t TB, p *Peer) *Probe {
	t.Helper()
	bin := Binary(t, "github.com/peer-cloud/peer/internal/lantest/cmd/probe")
	addr, tok, err := p.API()
	if err != nil {
		t.Fatal(err)
	}
	cmd := p.Host.Command(context.Background(), bin, addr, tok)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	return &Probe{in: in, out: bufio.NewScanner(out)}
}

// Ask sends one command ("ls DIR NAME", "resolve ACCOUNT") and returns how
// long the probe took to see it.
func (pr *Probe) Ask(cmd string) (time.Duration, error) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	fmt.Fprintln(pr.in, cmd)
	if !pr.out.Scan() {
		return 0, fmt.Errorf("probe ended before answering %q", cmd)
	}
	var ns int64
	if _, err := fmt.Sscan(pr.out.Text(), &ns); err != nil {
		return 0, fmt.Errorf("probe: %s", pr.out.Text())
	}
	return time.Duration(ns), nil
}
