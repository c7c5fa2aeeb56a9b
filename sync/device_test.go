package sync

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

// device is a device of a test account on 127.0.0.1: a repo, its Badger
// store, the account, a libp2p node and the sync service, as the daemon
// composes them, without the HTTP API.
type device struct {
	r     *repo.Repo
	store *blockstore.Store
	acct  *account.Account
	node  *p2p.Node
	ns    *namesys.System
	svc   *Service
}

// startDevice starts a device of the account with secret (a new account
// when nil), dialling peers.
func startDevice(t *testing.T, secret []byte, peers ...peer.AddrInfo) *device {
	t.Helper()
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	if secret == nil {
		a, err := vault.NewAccount(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		secret = a.Secret()
	}
	r, err := repo.Init(t.TempDir(), cfg, secret)
	if err != nil {
		t.Fatal(err)
	}
	return startRepo(t, r, peers...)
}

// startRepo starts a device on r, dialling peers; the test's cleanup
// stops it.
func startRepo(t *testing.T, r *repo.Repo, peers ...peer.AddrInfo) *device {
	t.Helper()
	ctx := context.Background()
	log := testLog()
	dv := &device{r: r}
	t.Cleanup(func() {
		if err := dv.close(); err != nil {
			t.Error(err)
		}
	})
	var err error
	if dv.store, err = blockstore.Open(ctx, r.BlocksDir(), blockstore.ProfileDefault, log.With("part", "blockstore")); err != nil {
		t.Fatal(err)
	}
	if dv.acct, err = account.Open(ctx, r, dv.store, log.With("part", "vault")); err != nil {
		t.Fatal(err)
	}
	if dv.node, err = p2p.New(ctx, p2p.Config{
		Identity:    r.Identity,
		Store:       dv.store,
		ListenAddrs: r.Config.Network.Listen,
		StaticPeers: peers,
		FetchWindow: r.Config.Network.FetchWindow,
		Log:         log.With("part", "p2p"),
	}); err != nil {
		t.Fatal(err)
	}
	if dv.ns, err = namesys.New(ctx, dv.node.Host(), dv.node.DHT(), dv.node.PubSub(), dv.store.Namespace("namesys"), log.With("part", "namesys")); err != nil {
		t.Fatal(err)
	}
	if dv.svc, err = Start(ctx, Config{
		Account: dv.acct,
		Node:    dv.node,
		Store:   dv.store,
		Names:   dv.ns,
		Pubsub:  true,
		CatchUp: r.Config.Names.CatchUp.Duration,
		Dir:     r.BlocksDir(),
		Log:     log.With("part", "sync"),
	}); err != nil {
		t.Fatal(err)
	}
	return dv
}

// close stops the device as the daemon does: the service, the node, the
// store. Later calls do nothing.
func (dv *device) close() error {
	var err error
	if dv.svc != nil {
		dv.svc.Close()
		dv.svc = nil
	}
	if dv.node != nil {
		err = dv.node.Close()
		dv.node = nil
	}
	if dv.store != nil {
		if cerr := dv.store.Close(); err == nil {
			err = cerr
		}
		dv.store = nil
	}
	return err
}

// testLog logs a device's Info and above to stderr when PEER_TEST_LOG is
// set (Debug with PEER_TEST_LOG=debug); nothing otherwise.
func testLog() *slog.Logger {
	level := slog.LevelInfo
	switch os.Getenv("PEER_TEST_LOG") {
	case "":
		return slog.New(slog.DiscardHandler)
	case "debug":
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// devicePair starts two devices of one account, connected.
func devicePair(t *testing.T) (a, b *device) {
	t.Helper()
	a = startDevice(t, nil)
	b = startDevice(t, a.r.AccountSecret, a.node.AddrInfo())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.node.WaitPeers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// add writes a file of n random bytes into the device's vault at /name,
// as one change.
func (dv *device) add(t *testing.T, name string, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	io.ReadFull(rand.Reader, data)
	_, err := dv.acct.Change(context.Background(), false, func(ctx context.Context, tr *vault.Tree) error {
		in := vault.FileInput{Name: name, Mode: 0o644, Mtime: time.Now().UnixNano()}
		if e, err := tr.Stat(ctx, "/"+name); err == nil {
			in.Prev = e.CID
		}
		fv, err := dv.acct.Vault().WriteFile(ctx, bytes.NewReader(data), in)
		if err != nil {
			return err
		}
		return tr.PutFile(ctx, "/"+name, fv)
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// has reports whether /name is in the device's vault with these bytes.
func (dv *device) has(name string, want []byte) bool {
	ctx := context.Background()
	tr, err := dv.acct.ReadTree()
	if err != nil {
		return false
	}
	e, err := tr.Stat(ctx, "/"+name)
	if err != nil {
		return false
	}
	fv, err := dv.acct.Vault().OpenFileWithKey(ctx, e.CID, e.Key, name)
	if err != nil {
		return false
	}
	var got bytes.Buffer
	return dv.acct.Vault().ReadRange(ctx, fv, &got, 0, -1) == nil && bytes.Equal(got.Bytes(), want)
}

// headOf returns the device's head snapshot CID, "" before the first.
func (dv *device) headOf(t *testing.T) string {
	if h := dv.acct.Head(); h != nil {
		return h.CID.String()
	}
	return ""
}

// gc collects the device's garbage.
func (dv *device) gc(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := dv.store.GC(ctx); err != nil {
		t.Fatal(err)
	}
}

// blockBytes is the bytes of blocks the device stores.
func (dv *device) blockBytes(t *testing.T, ctx context.Context) int64 {
	t.Helper()
	st, err := dv.store.Stat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st.BlockBytes
}
