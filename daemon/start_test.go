package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/daemon"
	"github.com/peer-cloud/peer/repo"
)

// loopbackRepo makes a repo whose node listens on loopback only, with mDNS
// off and an account.
func loopbackRepo(t *testing.T) *repo.Repo {
	t.Helper()
	cfg := loopbackConfig()
	r, err := repo.Init(t.TempDir(), cfg, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// loopbackConfig is the default config on loopback: no mDNS, the API and
// libp2p on 127.0.0.1 with ports the kernel picks.
func loopbackConfig() repo.Config {
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	return cfg
}

// startNoPanic runs daemon.Start and turns a panic into an error, so a
// failing case names itself instead of ending the test binary.
func startNoPanic(r *repo.Repo) (d *daemon.Daemon, err error) {
	defer func() {
		if p := recover(); p != nil {
			d, err = nil, fmt.Errorf("daemon.Start panicked: %v", p)
		}
	}()
	return daemon.Start(context.Background(), r, nil)
}

// reopen reads the repo from disk again, as a new run of the daemon would.
func reopen(t *testing.T, r *repo.Repo) *repo.Repo {
	t.Helper()
	r2, err := repo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return r2
}

// TestStartFailsCleanly: each way start-up can fail returns a one-line
// error that names the cause and what to do, leaves no api.addr behind
// and closes the store, so the daemon starts once the cause is fixed.
func TestStartFailsCleanly(t *testing.T) {
	for _, tc := range []struct {
		name string
		// breakRepo makes Start fail; it returns the repo to start and a
		// function that fixes the cause.
		breakRepo func(t *testing.T, r *repo.Repo) (*repo.Repo, func() *repo.Repo)
		want      []string
		is        error
	}{
		{
			name: "second daemon on one repo",
			breakRepo: func(t *testing.T, r *repo.Repo) (*repo.Repo, func() *repo.Repo) {
				first, err := daemon.Start(context.Background(), r, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { first.Close() })
				return reopen(t, r), func() *repo.Repo {
					if err := first.Close(); err != nil {
						t.Fatal(err)
					}
					return reopen(t, r)
				}
			},
			want: []string{"another daemon", "stop it"},
			is:   blockstore.ErrLocked,
		},
		{
			name: "API port in use",
			breakRepo: func(t *testing.T, r *repo.Repo) (*repo.Repo, func() *repo.Repo) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				r.Config.API.Listen = ln.Addr().String()
				return r, func() *repo.Repo {
					ln.Close()
					return r
				}
			},
			want: []string{"api.listen", "127.0.0.1:"},
		},
		{
			name: "bad account.key",
			breakRepo: func(t *testing.T, r *repo.Repo) (*repo.Repo, func() *repo.Repo) {
				p := filepath.Join(r.Dir, repo.AccountFile)
				good, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, good[:5], 0o600); err != nil {
					t.Fatal(err)
				}
				return reopen(t, r), func() *repo.Repo {
					if err := os.WriteFile(p, good, 0o600); err != nil {
						t.Fatal(err)
					}
					return reopen(t, r)
				}
			},
			want: []string{repo.AccountFile, "restore"},
		},
		{
			name: "empty listen",
			breakRepo: func(t *testing.T, r *repo.Repo) (*repo.Repo, func() *repo.Repo) {
				listen := r.Config.Network.Listen
				r.Config.Network.Listen = []string{}
				return r, func() *repo.Repo {
					r.Config.Network.Listen = listen
					return r
				}
			},
			want: []string{"network.listen", "/ip4/"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := loopbackRepo(t)
			broken, fix := tc.breakRepo(t, r)
			addrFile := filepath.Join(r.Dir, repo.APIAddrFile)
			addrBefore, _ := os.ReadFile(addrFile)
			d, err := startNoPanic(broken)
			if err == nil {
				d.Close()
				t.Fatal("Start succeeded")
			}
			msg := err.Error()
			if strings.Contains(msg, "panicked") {
				t.Fatal(msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error has more than one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", msg, tc.is)
			}
			// A failed start leaves api.addr as it found it: absent, or
			// the running daemon's.
			addrAfter, aerr := os.ReadFile(addrFile)
			if !bytes.Equal(addrAfter, addrBefore) || (addrBefore == nil && !errors.Is(aerr, os.ErrNotExist)) {
				t.Errorf("api.addr %q after the failed start; want %q", addrAfter, addrBefore)
			}
			// The store was closed: with the cause fixed, the daemon starts.
			d, err = startNoPanic(fix())
			if err != nil {
				t.Fatalf("Start after fixing the cause: %v", err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
