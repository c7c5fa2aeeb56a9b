package sync

import (
	"context"
	"strings"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/announce"
)

// TestRemovedDeviceRefused: a device removed on a removes itself from
// every root; b learns it from a's root and then refuses the removed
// device's head and its announcements, and keeps that across a restart;
// the removed device, unchanged software, learns it was removed and stops
// publishing; a and b go on syncing.
func TestRemovedDeviceRefused(t *testing.T) {
	ctx := context.Background()
	a := startDevice(t, nil)
	b := startDevice(t, a.r.AccountSecret, a.node.AddrInfo())
	gone := startDevice(t, a.r.AccountSecret, a.node.AddrInfo(), b.node.AddrInfo())
	goneID := gone.node.Host().ID()
	fromB := b.add(t, "from-b.txt", 100)
	data := gone.add(t, "from-gone.txt", 100)
	waitUntil(t, 30*time.Second, "the files on every device", func() bool {
		return a.has("from-gone.txt", data) && b.has("from-gone.txt", data) && a.has("from-b.txt", fromB) && gone.has("from-b.txt", fromB)
	})
	if !b.svc.isDevice(goneID) || !a.svc.isDevice(goneID) {
		t.Fatal("a and b do not know the third device")
	}
	names := map[peer.ID]bool{}
	for _, d := range a.svc.Devices() {
		names[d.ID] = true
	}
	if len(names) != 3 {
		t.Fatalf("a lists %d devices, want 3: %+v", len(names), a.svc.Devices())
	}

	// The device goes away; a removes it; b learns it from a's root.
	if err := gone.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.RemoveDevice(ctx, a.node.Host().ID()); err == nil {
		t.Fatal("a removed itself")
	}
	rv, err := a.svc.RemoveDevice(ctx, goneID)
	if err != nil {
		t.Fatal(err)
	}
	if rv.By != a.node.Host().ID() || rv.Device != goneID {
		t.Fatalf("revocation %+v", rv)
	}
	if _, err := a.svc.RemoveDevice(ctx, goneID); err == nil {
		t.Fatal("removed twice")
	}
	waitUntil(t, 30*time.Second, "b learning of the removal", func() bool { return b.svc.isRevoked(goneID) })
	if b.svc.isDevice(goneID) {
		t.Fatal("b still takes the removed device for a device")
	}

	// Offline, the removed device writes a change and publishes a root
	// (it has not heard of its removal).
	back := startRepo(t, gone.r)
	later := back.add(t, "after-removal.txt", 100)
	waitUntil(t, 10*time.Second, "the removed device's root", func() bool { return back.svc.Status().LastRoot.Defined() })
	root := back.svc.Status().LastRoot
	if err := b.node.Connect(ctx, back.node.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	// b refuses its head.
	_, err = b.svc.fetch(ctx, &job{root: root, fresh: true})
	if err == nil || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("b fetching the removed device's root: %v", err)
	}
	// and its announcements, though its root certifies it.
	rb, err := back.store.Blockstore().Get(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.checkAnnouncement(ctx, goneID, announce.Encode([]blocks.Block{rb})); err == nil {
		t.Fatal("b took an announcement of the removed device")
	}
	// The removed device learns of its removal and stops.
	waitUntil(t, 30*time.Second, "the removed device learning it was removed", func() bool { return back.svc.removedErr() != nil })
	for _, d := range back.svc.Devices() {
		if d.ID == goneID && (!d.Removed || d.RemovedBy != a.node.Host().ID()) {
			t.Fatalf("the removed device lists itself as %+v", d)
		}
	}

	// a and b go on.
	more := a.add(t, "after.txt", 100)
	waitUntil(t, 30*time.Second, "a's change on b", func() bool { return b.has("after.txt", more) })
	if b.has("after-removal.txt", later) || a.has("after-removal.txt", later) {
		t.Fatal("the removed device's change was taken in")
	}
	for _, d := range b.svc.Devices() {
		if d.ID == goneID && !d.Removed {
			t.Fatalf("b lists the removed device as %+v", d)
		}
	}

	// b restarted still refuses it, before any root.
	if err := b.close(); err != nil {
		t.Fatal(err)
	}
	b2 := startRepo(t, b.r)
	if !b2.svc.isRevoked(goneID) {
		t.Fatal("b forgot the removal in a restart")
	}
	if _, err := b2.svc.fetch(ctx, &job{root: root, fresh: true}); err == nil {
		t.Fatal("b restarted took the removed device's head")
	}
}
