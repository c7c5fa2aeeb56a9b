package donor_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/donor"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
	"github.com/peer-cloud/peer/repo"
	peersync "github.com/peer-cloud/peer/sync"
	"github.com/peer-cloud/peer/vault"
)

// device is a device of an account on 127.0.0.1, composed as the daemon
// composes it, without the HTTP API.
type device struct {
	r     *repo.Repo
	store *blockstore.Store
	acct  *account.Account
	node  *p2p.Node
	ns    *namesys.System
	svc   *peersync.Service
}

func testLog() *slog.Logger {
	if os.Getenv("PEER_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func loopbackConfig() repo.Config {
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	return cfg
}

// startDevice starts a device of the account with secret (new when nil)
// that dials peers.
func startDevice(t *testing.T, secret []byte, peers ...peer.AddrInfo) *device {
	t.Helper()
	ctx := context.Background()
	if secret == nil {
		a, err := vault.NewAccount(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		secret = a.Secret()
	}
	r, err := repo.Init(t.TempDir(), loopbackConfig(), secret)
	if err != nil {
		t.Fatal(err)
	}
	log := testLog()
	dv := &device{r: r}
	t.Cleanup(dv.close)
	if dv.store, err = blockstore.Open(ctx, r.BlocksDir(), blockstore.ProfileDefault, log); err != nil {
		t.Fatal(err)
	}
	if dv.acct, err = account.Open(ctx, r, dv.store, log); err != nil {
		t.Fatal(err)
	}
	if dv.node, err = p2p.New(ctx, p2p.Config{Identity: r.Identity, Store: dv.store, ListenAddrs: r.Config.Network.Listen, StaticPeers: peers, Log: log}); err != nil {
		t.Fatal(err)
	}
	if dv.ns, err = namesys.New(ctx, dv.node.Host(), dv.node.DHT(), dv.node.PubSub(), dv.store.Namespace("namesys"), log); err != nil {
		t.Fatal(err)
	}
	if dv.svc, err = peersync.Start(ctx, peersync.Config{Account: dv.acct, Node: dv.node, Store: dv.store, Names: dv.ns, Pubsub: true,
		CatchUp: time.Second, Dir: r.BlocksDir(), Log: log}); err != nil {
		t.Fatal(err)
	}
	return dv
}

func (dv *device) close() {
	if dv.svc != nil {
		dv.svc.Close()
		dv.svc = nil
	}
	if dv.node != nil {
		dv.node.Close()
		dv.node = nil
	}
	if dv.store != nil {
		dv.store.Close()
		dv.store = nil
	}
}

// write puts data at /name as one change.
func (dv *device) write(t *testing.T, name string, data []byte) {
	t.Helper()
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
}

// remove deletes /name as one change.
func (dv *device) remove(t *testing.T, name string) {
	t.Helper()
	if _, err := dv.acct.Change(context.Background(), false, func(ctx context.Context, tr *vault.Tree) error {
		_, err := tr.Remove(ctx, "/"+name)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// has reports whether /name holds want.
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

func (dv *device) head() string {
	if h := dv.acct.Head(); h != nil {
		return h.CID.String()
	}
	return ""
}

func (dv *device) id() peer.ID { return dv.acct.Keys().PeerID() }

// donorNode is a donor with no account: a store, a node, a name system
// and the donor service.
type donorNode struct {
	dir   string
	key   crypto.PrivKey
	store *blockstore.Store
	node  *p2p.Node
	ns    *namesys.System
	svc   *donor.Service
}

// startDonor starts a donor in dir (a new one when ""), with cfg's
// quotas, policy and accounts, dialling peers.
func startDonor(t *testing.T, dn *donorNode, cfg donor.Config, peers ...peer.AddrInfo) *donorNode {
	t.Helper()
	ctx := context.Background()
	if dn == nil {
		k, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		dn = &donorNode{dir: t.TempDir(), key: k}
	}
	t.Cleanup(dn.close)
	log := testLog()
	var err error
	if dn.store, err = blockstore.Open(ctx, dn.dir, blockstore.ProfileDefault, log); err != nil {
		t.Fatal(err)
	}
	if dn.node, err = p2p.New(ctx, p2p.Config{Identity: dn.key, Store: dn.store, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, StaticPeers: peers, Log: log}); err != nil {
		t.Fatal(err)
	}
	if dn.ns, err = namesys.New(ctx, dn.node.Host(), dn.node.DHT(), dn.node.PubSub(), dn.store.Namespace("namesys"), log); err != nil {
		t.Fatal(err)
	}
	cfg.Node, cfg.Store, cfg.Names, cfg.Datastore, cfg.Log = dn.node, dn.store, dn.ns, dn.store.Namespace("donor"), log
	if cfg.CatchUp == 0 {
		cfg.CatchUp = time.Second
	}
	if dn.svc, err = donor.Start(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	return dn
}

func (dn *donorNode) close() {
	if dn.svc != nil {
		dn.svc.Close()
		dn.svc = nil
	}
	if dn.node != nil {
		dn.node.Close()
		dn.node = nil
	}
	if dn.store != nil {
		dn.store.Close()
		dn.store = nil
	}
}

// waitFor waits until ok holds of the donor's status of its one account.
func (dn *donorNode) waitFor(t *testing.T, what string, ok func(donor.AccountStatus) bool) donor.AccountStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		ch := dn.svc.Updated()
		if st := dn.svc.Status(); len(st.Accounts) == 1 && ok(st.Accounts[0]) {
			return st.Accounts[0]
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("the donor did not get to %s: %+v", what, dn.svc.Status())
		}
	}
}

// waitHas waits until the device's tree holds /name with want.
func (dv *device) waitHas(t *testing.T, name string, want []byte) {
	t.Helper()
	ch, stop := dv.acct.Watch()
	defer stop()
	timeout := time.After(30 * time.Second)
	for !dv.has(name, want) {
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("the device did not get /%s", name)
		}
	}
}

func random(n int) []byte {
	b := make([]byte, n)
	io.ReadFull(rand.Reader, b)
	return b
}

// readsBack reads /name of snapshot head from the donor's blocks alone,
// with the account's keys, and compares it with want.
func (dn *donorNode) readsBack(t *testing.T, acct *vault.Account, head, name string, want []byte) {
	t.Helper()
	ctx := context.Background()
	c, err := cid.Decode(head)
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(acct, vault.LocalBlocks(dn.store.Blockstore()))
	s, err := v.OpenSnapshot(ctx, c)
	if err != nil {
		t.Fatalf("the donor lacks the head snapshot: %v", err)
	}
	e, err := s.OpenTree(v).Stat(ctx, "/"+name)
	if err != nil {
		t.Fatalf("the donor lacks /%s of the head: %v", name, err)
	}
	fv, err := v.OpenFileWithKey(ctx, e.CID, e.Key, name)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := v.ReadRange(ctx, fv, &got, 0, -1); err != nil {
		t.Fatalf("failed to read /%s from the donor's blocks: %v", name, err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("/%s read from the donor differs", name)
	}
}

func newKey(t *testing.T) crypto.PrivKey {
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
