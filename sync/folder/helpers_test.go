package folder

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

// dev is a device without a network: a repo, its Badger store, the
// account and a folder service.
type dev struct {
	t     *testing.T
	r     *repo.Repo
	store *blockstore.Store
	acct  *account.Account
	svc   *Service
}

func testLog() *slog.Logger {
	if os.Getenv("PEER_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newRepo makes a repo of a new account.
func newRepo(t *testing.T) *repo.Repo {
	t.Helper()
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	a, err := vault.NewAccount(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(t.TempDir(), cfg, a.Secret())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// openDev opens the store and account of r and starts a service.
func openDev(t *testing.T, r *repo.Repo, opts Options) *dev {
	t.Helper()
	ctx := context.Background()
	d := &dev{t: t, r: r}
	var err error
	if d.store, err = blockstore.Open(ctx, r.BlocksDir(), blockstore.ProfileDefault, testLog()); err != nil {
		t.Fatal(err)
	}
	if d.acct, err = account.Open(ctx, r, d.store, testLog()); err != nil {
		t.Fatal(err)
	}
	d.svc = New(d.acct, d.store.Namespace("folders"), testLog(), opts)
	if err := d.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.close)
	return d
}

func (d *dev) close() {
	if d.svc != nil {
		d.svc.Close()
		d.svc = nil
	}
	if d.store != nil {
		if err := d.store.Close(); err != nil {
			d.t.Error(err)
		}
		d.store = nil
	}
}

func newDev(t *testing.T) *dev { return openDev(t, newRepo(t), Options{}) }

// put writes data at p in the vault, as another device's change would.
func (d *dev) put(p string, data []byte) {
	d.t.Helper()
	ctx := context.Background()
	_, err := d.acct.Change(ctx, false, func(ctx context.Context, t *vault.Tree) error {
		var prev vault.Entry
		if e, err := t.Stat(ctx, p); err == nil {
			prev = e
		}
		fv, err := d.acct.Vault().WriteFile(ctx, bytes.NewReader(data), vault.FileInput{Name: filepath.Base(p), Mode: 0o640, Mtime: time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC).UnixNano(), Prev: prev.CID})
		if err != nil {
			return err
		}
		return t.PutFile(ctx, p, fv)
	})
	if err != nil {
		d.t.Fatal(err)
	}
}

// change runs fn as one vault change.
func (d *dev) change(fn func(ctx context.Context, t *vault.Tree) error) {
	d.t.Helper()
	if _, err := d.acct.Change(context.Background(), false, fn); err != nil {
		d.t.Fatal(err)
	}
}

// vaultFile returns the bytes at p in the head, or nil.
func (d *dev) vaultFile(p string) []byte {
	ctx := context.Background()
	t, err := d.acct.ReadTree()
	if err != nil {
		return nil
	}
	e, err := t.Stat(ctx, p)
	if err != nil || e.Kind != vault.KindFile {
		return nil
	}
	fv, err := d.acct.Vault().OpenFileWithKey(ctx, e.CID, e.Key, p)
	if err != nil {
		return nil
	}
	var b bytes.Buffer
	if err := d.acct.Vault().ReadRange(ctx, fv, &b, 0, int64(fv.Size)); err != nil {
		return nil
	}
	return b.Bytes()
}

// vaultNames lists the names in the vault folder p.
func (d *dev) vaultNames(p string) []string {
	t, err := d.acct.ReadTree()
	if err != nil {
		return nil
	}
	es, err := t.List(context.Background(), p)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

func (d *dev) add(dir, to string) Config {
	d.t.Helper()
	c, err := d.svc.Add(context.Background(), dir, to)
	if err != nil {
		d.t.Fatal(err)
	}
	return c
}

func (d *dev) status(dir string) Status {
	d.t.Helper()
	s, err := d.svc.Status(dir)
	if err != nil {
		d.t.Fatal(err)
	}
	return s[0]
}

// eventually polls check every 10 ms until it holds, failing after bound.
func eventually(t *testing.T, bound time.Duration, what string, check func() bool) {
	t.Helper()
	end := time.Now().Add(bound)
	for !check() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hasFile reports whether the disk holds want at p.
func hasFile(p string, want []byte) bool {
	got, err := os.ReadFile(p)
	return err == nil && bytes.Equal(got, want)
}

func gone(p string) bool {
	_, err := os.Lstat(p)
	return errors.Is(err, os.ErrNotExist)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	io.ReadFull(rand.Reader, b)
	return b
}

func write(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
