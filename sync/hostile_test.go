package sync

import (
	"context"
	"slices"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/peer-cloud/peer/announce"
	"github.com/peer-cloud/peer/internal/hostile"
	"github.com/peer-cloud/peer/vault"
)

// waitUntil polls check every 10 ms until it holds or bound passes.
func waitUntil(t *testing.T, bound time.Duration, what string, check func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !check() {
		if time.Since(start) > bound {
			t.Fatalf("%s: not within %s", what, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func newHostile(t *testing.T, targets ...*device) *hostile.Peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := hostile.New(ctx, "/ip4/127.0.0.1/tcp/0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	for _, dv := range targets {
		if err := h.Connect(ctx, dv.node.AddrInfo()); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func rawBlock(t testing.TB, data []byte) blocks.Block {
	c, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: multihash.SHA2_256, MhLength: -1}.Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := blocks.NewBlockWithCid(data, c)
	return b
}

// TestAnnouncementFloodRefused: a stranger flooding an account's blocks
// topic with well-formed announcements of tiny blocks (the flood that took
// a daemon from 322 MiB to 1.5 GiB) gets nothing kept, is cut off, and
// gossip does not carry its messages to the account's other device; the
// account's own changes still arrive.
func TestAnnouncementFloodRefused(t *testing.T) {
	a, b := devicePair(t)
	h := newHostile(t, a)
	topic := announce.Topic(a.acct.Keys().ID())
	waitUntil(t, 10*time.Second, "hostile peer on the blocks topic", func() bool {
		return slices.Contains(h.TopicPeers(topic), a.node.Host().ID())
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sent, err := h.Flood(ctx, topic, 400, func(i int) []byte {
		var bs []blocks.Block
		for j := 0; j < 1000; j++ {
			bs = append(bs, rawBlock(t, []byte{byte(i), byte(i >> 8), byte(j), byte(j >> 8)}))
		}
		return announce.Encode(bs)
	})
	if err != nil {
		t.Fatal(err)
	}
	// A change made after the flood reaches b: everything before it on
	// the topic has been handled.
	data := a.add(t, "after-flood.txt", 1000)
	waitUntil(t, 10*time.Second, "a's change on b during the flood", func() bool { return b.has("after-flood.txt", data) })
	for name, dv := range map[string]*device{"a": a, "b": b} {
		entries, cost := dv.svc.cache.Stats()
		if entries > 64 {
			t.Errorf("%s keeps %d announced blocks (%d bytes) after %d hostile messages", name, entries, cost, sent)
		}
	}
	a.svc.rejects.mu.Lock()
	refused := len(a.svc.rejects.peers[h.Host.ID()])
	a.svc.rejects.mu.Unlock()
	if refused < rejectLimit {
		t.Errorf("a refused %d messages of the hostile peer; want at least %d, then a ban", refused, rejectLimit)
	}
}

// TestAnnouncementsOnlyFromDevices: a well-formed announcement that holds
// an account root is refused unless its signer is a device the root
// certifies for the account.
func TestAnnouncementsOnlyFromDevices(t *testing.T) {
	a := startDevice(t, nil)
	ctx := context.Background()
	n := a.svc
	me := a.node.Host().ID()
	root, err := a.acct.Vault().WriteRoot(ctx, vault.Root{Box: a.acct.Keys().BoxPublic(), Devices: sortedCerts(n.devices)})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := a.store.Blockstore().Get(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	msg := announce.Encode([]blocks.Block{rawBlock(t, []byte("chunk")), rb})
	h := newHostile(t)
	other := startDevice(t, nil)
	for who, signer := range map[string]peer.ID{"stranger": h.Host.ID(), "another account's device": other.node.Host().ID()} {
		if _, err := n.checkAnnouncement(ctx, signer, msg); err == nil {
			t.Errorf("an announcement signed by a %s was accepted", who)
		}
	}
	// a itself and, through the root, any certified device are accepted.
	if _, err := n.checkAnnouncement(ctx, me, msg); err != nil {
		t.Errorf("a's own announcement: %v", err)
	}
	cert, err := a.acct.Keys().CertifyDevice(h.Host.ID(), "new", 1)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := cert.Marshal()
	root2, err := a.acct.Vault().WriteRoot(ctx, vault.Root{Box: a.acct.Keys().BoxPublic(), Devices: [][]byte{cb}})
	if err != nil {
		t.Fatal(err)
	}
	rb2, _ := a.store.Blockstore().Get(ctx, root2)
	if _, err := n.checkAnnouncement(ctx, h.Host.ID(), announce.Encode([]blocks.Block{rb2})); err != nil {
		t.Errorf("an announcement of a device certified in its root: %v", err)
	}
	// Without a root, or with two, nothing is accepted from others.
	if _, err := n.checkAnnouncement(ctx, h.Host.ID(), announce.Encode([]blocks.Block{rawBlock(t, []byte("x"))})); err == nil {
		t.Error("an announcement with no account root was accepted")
	}
}
