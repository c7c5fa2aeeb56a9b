package donor_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/donor"
)

// TestOwnerOffline: a donor mirrors an account; with the owner's only
// device gone, a new device of the account gets everything from the
// donor alone (the name from the donor's DHT store and pubsub, the
// blocks over Bitswap), bytes compared. The donor's files hold neither
// the account's secret nor any plaintext.
func TestOwnerOffline(t *testing.T) {
	a := startDevice(t, nil)
	dn := startDonor(t, nil, donor.Config{}, a.node.AddrInfo())
	if err := dn.svc.Serve(t.Context(), []peer.ID{a.id()}, nil, nil); err != nil {
		t.Fatal(err)
	}
	marker := []byte("peer-donor-marker-1f6b3c-plaintext")
	small := append(append([]byte{}, marker...), random(100)...)
	big := random(3<<20 + 12345)
	a.write(t, "marker.txt", small)
	a.write(t, "big.bin", big)
	head := a.head()
	st := dn.waitFor(t, "A's head", func(s donor.AccountStatus) bool { return s.Head == head })
	if st.Snapshots != 2 || st.Bytes < int64(len(big)) {
		t.Errorf("donor keeps %d snapshots, %d bytes; want 2, over %d", st.Snapshots, st.Bytes, len(big))
	}
	secret := a.r.AccountSecret
	a.close()

	b := startDevice(t, secret, dn.node.AddrInfo())
	b.waitHas(t, "marker.txt", small)
	b.waitHas(t, "big.bin", big)

	dn.close()
	for _, needle := range [][]byte{marker, secret} {
		filepath.WalkDir(dn.dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, needle) {
				t.Errorf("the donor's %s holds %q", p, needle)
			}
			return nil
		})
	}
}

// TestAnnouncedBlocksLeaveTheCache: the blocks a device announces with
// its changes are stored from the donor's cache, and then leave it: a
// cache that kept them grew a donor's memory with every change.
func TestAnnouncedBlocksLeaveTheCache(t *testing.T) {
	a := startDevice(t, nil)
	dn := startDonor(t, nil, donor.Config{}, a.node.AddrInfo())
	if err := dn.svc.Serve(t.Context(), []peer.ID{a.id()}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		a.write(t, fmt.Sprintf("f%d.txt", i), random(2000))
		head := a.head()
		dn.waitFor(t, "the head of change "+fmt.Sprint(i), func(s donor.AccountStatus) bool { return s.Head == head })
	}
	held, cost, stored := dn.svc.Announced(a.id())
	if stored == 0 {
		t.Fatal("no change's blocks were stored from the announcements")
	}
	if held != 0 || cost != 0 {
		t.Fatalf("the cache still holds %d announced blocks (%d bytes) after their roots were mirrored", held, cost)
	}
}
