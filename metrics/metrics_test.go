package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/bitswap"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/donor"
	"github.com/peer-cloud/peer/namesys"
	"github.com/peer-cloud/peer/p2p"
	"github.com/peer-cloud/peer/sync/folder"
)

type fakeBitswap struct{ err error }

func (f fakeBitswap) BitswapStat() (*bitswap.Stat, error) {
	return &bitswap.Stat{BlocksReceived: 3, DataReceived: 300, BlocksSent: 2, DataSent: 200, Peers: []string{"a"}}, f.err
}

type fakePeers int

func (f fakePeers) Peers() []peer.ID { return make([]peer.ID, f) }

type fakeRecords struct{}

func (fakeRecords) RecordStat() p2p.RecordStat {
	return p2p.RecordStat{Records: 2, Bytes: 600, MaxRecords: 8192, MaxBytes: 16 << 20, Refused: 1}
}

type fakeStore struct{ calls int }

func (f *fakeStore) Stat(context.Context) (blockstore.Stat, error) {
	f.calls++
	return blockstore.Stat{Blocks: 5 * f.calls, BlockBytes: 500, DiskBytes: 4096, Pins: 1}, nil
}

type fakeVault struct{}

func (fakeVault) Stats() account.Stats { return account.Stats{Commits: 4, Merges: 1, HeadSeq: 5} }

type fakeFolders struct{}

func (fakeFolders) Status(string) ([]folder.Status, error) {
	return []folder.Status{
		{Config: folder.Config{Dir: "/home/me/Photos"}, State: folder.StateSyncing, Pending: 7, LastScan: time.Unix(1000, 0)},
		{Config: folder.Config{Dir: "/home/me/bad\xffname"}, State: folder.StateIdle},
	}, nil
}

type fakeDonor struct{}

func (fakeDonor) Status() donor.Status {
	return donor.Status{Used: 10, Fetched: 12, Accounts: []donor.AccountStatus{
		{Account: "k51a", Bytes: 10, Snapshots: 2, LastRepublish: time.Unix(2000, 0), Err: "no peer"},
	}}
}

type fakeNames struct{}

func (fakeNames) Stats() namesys.Stats {
	return namesys.Stats{Signed: 3, Sent: 4, DHTOK: 2, DHTFailed: 1, DHTCanceled: 1}
}

func all() Sources {
	return Sources{Bitswap: fakeBitswap{}, Peers: fakePeers(2), Records: fakeRecords{}, Store: &fakeStore{},
		Vault: fakeVault{}, Folders: fakeFolders{}, Donor: fakeDonor{}, Names: fakeNames{}}
}

func TestCollectorLint(t *testing.T) {
	problems, err := testutil.CollectAndLint(New(all()))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestCollectorValues(t *testing.T) {
	c := New(all())
	want := `
# HELP peer_vault_changes_total New heads of the account since start: commit (a change on this device), merge (diverged heads merged), taken (another device's head taken as it was).
# TYPE peer_vault_changes_total counter
peer_vault_changes_total{kind="commit"} 4
peer_vault_changes_total{kind="merge"} 1
peer_vault_changes_total{kind="taken"} 0
# HELP peer_sync_folder_pending Changes seen in a synced folder and not yet synced.
# TYPE peer_sync_folder_pending gauge
peer_sync_folder_pending{folder="\"/home/me/bad\\xffname\""} 0
peer_sync_folder_pending{folder="/home/me/Photos"} 7
# HELP peer_sync_folder_last_scan_timestamp_seconds When a synced folder was last scanned (Unix time).
# TYPE peer_sync_folder_last_scan_timestamp_seconds gauge
peer_sync_folder_last_scan_timestamp_seconds{folder="/home/me/Photos"} 1000
# HELP peer_donor_account_failing 1 when the last attempt to follow or fetch an account failed.
# TYPE peer_donor_account_failing gauge
peer_donor_account_failing{account="k51a"} 1
# HELP peer_names_dht_puts_total DHT puts of IPNS records that ended: ok, failed, or canceled (a newer record of the name went out, or the node stopped).
# TYPE peer_names_dht_puts_total counter
peer_names_dht_puts_total{result="canceled"} 1
peer_names_dht_puts_total{result="failed"} 1
peer_names_dht_puts_total{result="ok"} 2
# HELP peer_peers_connected Peers with at least one open connection.
# TYPE peer_peers_connected gauge
peer_peers_connected 2
`
	names := []string{"peer_vault_changes_total", "peer_sync_folder_pending", "peer_sync_folder_last_scan_timestamp_seconds",
		"peer_donor_account_failing", "peer_names_dht_puts_total", "peer_peers_connected"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	// A folder never synced has no last-sync sample, rather than 1970.
	if n := testutil.CollectAndCount(c, "peer_sync_folder_last_sync_timestamp_seconds"); n != 0 {
		t.Fatalf("%d last-sync samples for folders never synced", n)
	}
	if n := testutil.CollectAndCount(c, "peer_sync_folder_state"); n != 10 {
		t.Fatalf("%d state samples for 2 folders; want 5 each", n)
	}
}

// The store is listed again only after StoreInterval.
func TestCollectorStoreInterval(t *testing.T) {
	src := all()
	st := &fakeStore{}
	src.Store = st
	c := New(src)
	now := time.Unix(0, 0)
	c.now = func() time.Time { return now }
	blocks := func() float64 {
		t.Helper()
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(c)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "peer_store_blocks" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no peer_store_blocks")
		return 0
	}
	if b := blocks(); b != 5 {
		t.Fatalf("blocks %v; want 5", b)
	}
	now = now.Add(StoreInterval - time.Second)
	if b := blocks(); b != 5 || st.calls != 1 {
		t.Fatalf("blocks %v after %d listings; want the first listing's 5", b, st.calls)
	}
	now = now.Add(time.Second)
	if b := blocks(); b != 10 {
		t.Fatalf("blocks %v; want a new listing's 10", b)
	}
}

// A source that fails spoils its own metric, not the scrape's others.
func TestCollectorSourceError(t *testing.T) {
	src := all()
	src.Bitswap = fakeBitswap{err: errors.New("closed")}
	reg := prometheus.NewRegistry()
	reg.MustRegister(New(src))
	mfs, err := reg.Gather()
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("gather error %v; want Bitswap's", err)
	}
	found := false
	for _, mf := range mfs {
		found = found || mf.GetName() == "peer_vault_changes_total"
	}
	if !found {
		t.Fatal("a failing Bitswap left out the vault's metrics")
	}
}

// Nil sources leave their metrics out.
func TestCollectorNilSources(t *testing.T) {
	c := New(Sources{Donor: fakeDonor{}})
	if n := testutil.CollectAndCount(c, "peer_vault_changes_total", "peer_store_blocks"); n != 0 {
		t.Fatalf("%d samples from nil sources", n)
	}
	if n := testutil.CollectAndCount(c, "peer_donor_used_bytes"); n != 1 {
		t.Fatalf("%d donor samples; want 1", n)
	}
}
