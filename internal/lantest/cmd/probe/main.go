// Command probe runs inside a node's namespace (lantest.StartProbe starts
// it there) and times what the node sees, talking to its API directly so
// no process start is in the figure. It reads commands from stdin and
// answers each with a duration in nanoseconds, or "error ...":
//
//	ls DIR NAME       wait (polling every millisecond, up to 10 s) until NAME is in DIR
//	cat PATH          wait the same way until the file at PATH can be read
//	                  (what a follower's latency is measured by: it costs
//	                  the same whatever the size of the folder)
//	reads PATH TEXT   wait the same way until the file at PATH reads TEXT
//	                  (one word): for an edit of a file already there
//	shared NAME       wait (the same way) until a file named NAME is in
//	                  the node's 'peer shared' list
//	resolve ACCOUNT   resolve the account's name through the DHT alone
//	donor SNAPSHOT [SECONDS]
//	                  wait (the same way, up to SECONDS, default 10) until
//	                  the node, a donor, holds SNAPSHOT as the head of an
//	                  account it serves
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/peer-cloud/peer/api"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: probe API-URL TOKEN")
		os.Exit(2)
	}
	c := &api.Client{Base: os.Args[1], Token: os.Args[2]}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		start := time.Now()
		limit := 10 * time.Second
		if len(f) == 3 && f[0] == "donor" {
			if n, err := strconv.Atoi(f[2]); err == nil && n > 0 {
				limit = time.Duration(n) * time.Second
			}
			f = f[:2]
		}
		ctx, cancel := context.WithTimeout(context.Background(), limit)
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
		case len(f) == 2 && f[0] == "cat":
			for {
				if err = readable(ctx, c, f[1]); err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
		case len(f) == 3 && f[0] == "reads":
			for {
				var got string
				if got, err = content(ctx, c, f[1]); err == nil && got == f[2] {
					break
				}
				if ctx.Err() != nil {
					err = fmt.Errorf("%s does not read %q within 10 s (it reads %q, %v)", f[1], f[2], got, err)
					break
				}
				time.Sleep(time.Millisecond)
			}
		case len(f) == 2 && f[0] == "donor":
			for {
				var st api.DonorStatus
				if st, err = c.DonorStatus(ctx); err == nil && slices.ContainsFunc(st.Accounts, func(a api.DonorAccount) bool { return a.Head == f[1] }) {
					break
				}
				if ctx.Err() != nil {
					err = fmt.Errorf("the donor does not hold %s within %s", f[1], limit)
					break
				}
				time.Sleep(time.Millisecond)
			}
		case len(f) == 2 && f[0] == "shared":
			for {
				var rs []api.Received
				if rs, err = c.Shared(ctx); err == nil && slices.ContainsFunc(rs, func(r api.Received) bool { return r.Name == f[1] }) {
					break
				}
				if ctx.Err() != nil {
					err = fmt.Errorf("no share named %s within 10 s", f[1])
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

// content is the file at p, up to 4 KiB of it.
func content(ctx context.Context, c *api.Client, p string) (string, error) {
	resp, err := c.VaultCat(ctx, p, "", 0, -1)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return string(b), err
}

// readable reads the whole file at p.
func readable(ctx context.Context, c *api.Client, p string) error {
	resp, err := c.VaultCat(ctx, p, "", 0, -1)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
