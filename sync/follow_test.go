package sync

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/path"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/peer-cloud/peer/internal/hostile"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

// TestReplayedRecordsDoNotStall: old, valid records of the account whose
// roots nobody holds any more, replayed by a LAN peer, do not hold up a
// real change (3 replays once delayed one by 178 s: each copy blocked the
// follower for a minute).
func TestReplayedRecordsDoNotStall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := startDevice(t, nil)
	h := newHostile(t, a)
	rec, err := h.Record(ctx, a.acct.Keys().PeerID())
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the eavesdropper on the record topic", func() bool {
		return slices.Contains(a.node.PubSub().ListPeers(recordTopic(a)), h.Host.ID())
	})
	for _, name := range []string{"one", "two", "three"} {
		a.add(t, name, 100)
	}
	waitUntil(t, 10*time.Second, "three records overheard", func() bool { return len(rec.Records()) >= 3 })
	a.gc(t, ctx)
	// A new device joins after the old roots are gone, and catches up.
	b := startDevice(t, a.r.AccountSecret, a.node.AddrInfo())
	if err := h.Connect(ctx, b.node.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "b caught up", func() bool { return b.headOf(t) == a.headOf(t) })
	old := rec.Records()
	old = old[:len(old)-1]
	if err := h.Replay(ctx, a.acct.Keys().PeerID(), old, 3); err != nil {
		t.Fatal(err)
	}
	data := a.add(t, "real.txt", 1000)
	took := waitUntil(t, 5*time.Second, "a's change on b while old records are replayed", func() bool { return b.has("real.txt", data) })
	t.Logf("a's change reached b %s after %d replayed records", took, 3*len(old))
	// The replays go on; a second change is not held up either.
	if err := h.Replay(ctx, a.acct.Keys().PeerID(), old, 3); err != nil {
		t.Fatal(err)
	}
	data = a.add(t, "real2.txt", 1000)
	waitUntil(t, 5*time.Second, "a's second change on b", func() bool { return b.has("real2.txt", data) })
}

func recordTopic(dv *device) string { return hostile.RecordTopic(dv.acct.Keys().PeerID()) }

// TestGCDuringFetchKeepsHead: a garbage collection while a device fetches
// another's head neither drops blocks of it nor leaves the device behind.
func TestGCDuringFetchKeepsHead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a, b := devicePair(t)
	data := a.add(t, "big.bin", 48<<20)
	want := a.headOf(t)
	gcs := 0
	for b.headOf(t) != want {
		if ctx.Err() != nil {
			t.Fatalf("b did not take a's head within the bound (%d collections)", gcs)
		}
		b.gc(t, ctx)
		gcs++
	}
	b.gc(t, ctx)
	if !b.has("big.bin", data) {
		t.Fatalf("b cannot read a's file after %d collections during its fetch", gcs+1)
	}
}

// TestRecordNotNamingSnapshot: a record (validly signed) whose root's head
// is not a snapshot makes a device fetch one block of it, not the DAG
// below, and changes nothing.
func TestRecordNotNamingSnapshot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, b := devicePair(t)
	// Another account's device holds a big file; its version node is
	// dag-cbor and a vault kind, but no snapshot.
	x := startDevice(t, nil, b.node.AddrInfo())
	x.add(t, "big.bin", 16<<20)
	tr, err := x.acct.ReadTree()
	if err != nil {
		t.Fatal(err)
	}
	e, err := tr.Stat(ctx, "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	root, err := x.acct.Vault().WriteRoot(ctx, vault.Root{Box: a.acct.Keys().BoxPublic(), Head: e.CID})
	if err != nil {
		t.Fatal(err)
	}
	before := a.headOf(t)
	stat0 := b.blockBytes(t, ctx)
	// The account's key signs it: only the owner (or a thief of the key)
	// can; the device must still not fetch what is not its vault.
	if _, err := a.ns.Publish(ctx, a.acct.Keys().SigningKey(), path.FromCid(root)); err != nil {
		t.Fatal(err)
	}
	// A real change after it arrives; then nothing of the file is held.
	data := a.add(t, "after.txt", 100)
	waitUntil(t, 20*time.Second, "a's change on b after the bad record", func() bool { return b.has("after.txt", data) })
	if grew := b.blockBytes(t, ctx) - stat0; grew > 1<<20 {
		t.Fatalf("b stored %d bytes for a record whose head is a file version", grew)
	}
	if before == b.headOf(t) {
		t.Fatal("b's head did not move")
	}
}

// TestFollowerKeepsUpWithStream: while another device changes the vault
// without pause, the follower takes its heads in as it goes, not only
// once the stream ends (a fresh fetch always running held integration
// back for as long as changes kept coming), and ends at its last head.
func TestFollowerKeepsUpWithStream(t *testing.T) {
	a, b := devicePair(t)
	a.add(t, "first", 10)
	waitUntil(t, 30*time.Second, "b takes a's first head", func() bool { return b.headOf(t) == a.headOf(t) })
	taken := map[string]bool{}
	stop := time.Now().Add(4 * time.Second)
	n := 0
	for ; n < 400 && time.Now().Before(stop); n++ {
		a.add(t, fmt.Sprintf("s%03d", n), 2<<20)
		if h := b.headOf(t); h != "" {
			taken[h] = true
		}
	}
	t.Logf("%d changes in the stream; b took %d distinct heads meanwhile", n, len(taken))
	if len(taken) < max(3, n/4) {
		t.Errorf("b took %d heads while a made %d changes over 4 s; want it to keep up as it goes", len(taken), n)
	}
	waitUntil(t, 30*time.Second, "b takes a's last head", func() bool { return b.headOf(t) == a.headOf(t) })
}

// TestFollowerCatchesUpAfterBacklog: a device that was off while another
// made hundreds of changes catches up when it comes back, fetching what
// is new rather than re-walking the history, and then follows again.
func TestFollowerCatchesUpAfterBacklog(t *testing.T) {
	a, b := devicePair(t)
	a.add(t, "first", 10)
	waitUntil(t, 30*time.Second, "b takes a's first head", func() bool { return b.headOf(t) == a.headOf(t) })
	const backlog = 300
	b2 := whileOff(t, a, b, func() {
		for i := range backlog {
			a.add(t, fmt.Sprintf("while-off-%03d", i), 100)
		}
	})
	took := waitUntil(t, 60*time.Second, "b catches up with a's backlog", func() bool { return b2.headOf(t) == a.headOf(t) })
	t.Logf("b caught up with %d changes in %s, %d blocks pulled", backlog, took, b2.svc.pulled.Load())
	if b2.svc.pulled.Load() == 0 {
		t.Error("b fetched its backlog without pulling it from a in one round trip")
	}
	data := a.add(t, "after.txt", 100)
	waitUntil(t, 10*time.Second, "b follows again", func() bool { return b2.has("after.txt", data) })
}

// TestFetchWhenBitswapIsDeaf: a device that comes back after another
// made a change takes it in although no Bitswap answer ever comes (after
// a link flap the other device's Bitswap replies can go over a dead
// connection, and Bitswap asks again only a minute later): the root and
// the head come by pull, raced against Bitswap.
func TestFetchWhenBitswapIsDeaf(t *testing.T) {
	a, b := devicePair(t)
	a.add(t, "first", 10)
	waitUntil(t, 30*time.Second, "b takes a's first head", func() bool { return b.headOf(t) == a.headOf(t) })
	var data []byte
	b2 := whileOff(t, a, b, func() {
		data = a.add(t, "while-off", 1000)
		for _, p := range []protocol.ID{bsnet.ProtocolBitswap, bsnet.ProtocolBitswapOneOne, bsnet.ProtocolBitswapOneZero, bsnet.ProtocolBitswapNoVers} {
			a.node.Host().RemoveStreamHandler(p)
		}
	})
	took := waitUntil(t, 20*time.Second, "b takes a's change with Bitswap deaf", func() bool { return b2.has("while-off", data) })
	t.Logf("b took the change in %s, %d blocks pulled", took, b2.svc.pulled.Load())
}

// TestPullRetriedWhenTheFirstFails: with Bitswap deaf and a's first two
// pulls reset (as a stream over a connection that died while the link
// was down is), b pulls again a little later and takes the change in
// seconds, not after Bitswap's minute.
func TestPullRetriedWhenTheFirstFails(t *testing.T) {
	a, b := devicePair(t)
	a.add(t, "first", 10)
	waitUntil(t, 30*time.Second, "b takes a's first head", func() bool { return b.headOf(t) == a.headOf(t) })
	var data []byte
	var refused atomic.Int32
	b2 := whileOff(t, a, b, func() {
		data = a.add(t, "while-off", 1000)
		for _, p := range []protocol.ID{bsnet.ProtocolBitswap, bsnet.ProtocolBitswapOneOne, bsnet.ProtocolBitswapOneZero, bsnet.ProtocolBitswapNoVers} {
			a.node.Host().RemoveStreamHandler(p)
		}
		a.node.Host().SetStreamHandler(pullProtocol, func(s network.Stream) {
			if refused.Add(1) <= 2 {
				s.Reset()
				return
			}
			a.svc.servePull(s)
		})
	})
	took := waitUntil(t, 20*time.Second, "b takes a's change with Bitswap deaf and two pulls reset", func() bool { return b2.has("while-off", data) })
	if n := refused.Load(); n < 3 {
		t.Fatalf("a saw %d pulls, want the two it reset and one more", n)
	}
	t.Logf("b took the change in %s, after %d pulls", took, refused.Load())
}

// whileOff stops b, runs offline, and starts b again on its repo,
// dialling a.
func whileOff(t *testing.T, a, b *device, offline func()) *device {
	t.Helper()
	dir := b.r.Dir
	if err := b.close(); err != nil {
		t.Fatal(err)
	}
	offline()
	r, err := repo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return startRepo(t, r, a.node.AddrInfo())
}
