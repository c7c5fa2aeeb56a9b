// Command peer is a personal cloud node on IPFS parts: it keeps blocks in
// Badger, finds LAN peers by mDNS and a LAN DHT, and moves blocks by
// Bitswap. 'peer daemon' runs the node; the other commands talk to it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args and returns the exit code. A failure is
// one line on stderr, "peer: " and the reason, with control characters
// escaped.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(&globals{stdout: stdout, stderr: stderr, stdin: stdin})
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(stderr, "peer: %s\n", escape(err.Error()))
	return 1
}

// exitError ends the program with a code and no further message (the
// command printed what it had to).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }
