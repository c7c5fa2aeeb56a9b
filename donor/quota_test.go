package donor_test

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/donor"
)

// TestQuotaKeepsNewest: an account whose history outgrows its share
// keeps its newest snapshot whole; older history goes, and status says
// so. A newest snapshot that alone is over the share is refused, and the
// head held stays.
func TestQuotaKeepsNewest(t *testing.T) {
	a := startDevice(t, nil)
	const mib = 1 << 20
	dn := startDonor(t, nil, donor.Config{PerAccount: 2*mib + mib/2}, a.node.AddrInfo())
	if err := dn.svc.Serve(t.Context(), []peer.ID{a.id()}, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Each file is deleted before the next: the newest tree stays at one
	// file, the history grows by one per file.
	var last []byte
	for i, name := range []string{"a", "b", "c"} {
		last = random(mib)
		a.write(t, name, last)
		head := a.head()
		dn.waitFor(t, "head "+name, func(s donor.AccountStatus) bool { return s.Head == head })
		if i < 2 {
			a.remove(t, name)
		}
	}
	head := a.head()
	st := dn.waitFor(t, "the last head", func(s donor.AccountStatus) bool { return s.Head == head })
	if st.Cut != "quota" || st.Bytes > 2*mib+mib/2 || st.Snapshots < 1 {
		t.Fatalf("status %+v; want history cut for quota, at most 2.5 MiB", st)
	}
	t.Logf("kept %d snapshots, %d bytes, cut: %s", st.Snapshots, st.Bytes, st.Cut)

	// The newest snapshot is whole on the donor: read it from the
	// donor's blocks alone with the account's keys, bytes compared. (A
	// new device cannot sync from this donor alone: sync fetches every
	// snapshot of the history, and the donor let the oldest go.)
	dn.readsBack(t, a.acct.Keys(), head, "c", last)
	t.Logf("kept %d snapshots, %d bytes, cut: %s", st.Snapshots, st.Bytes, st.Cut)

	// A head over the share on its own is refused.
	a.write(t, "huge", random(3*mib))
	huge := a.head()
	st = dn.waitFor(t, "refusing the huge head", func(s donor.AccountStatus) bool { return s.Refused != "" })
	if st.Head != head || st.Head == huge || st.Err == "" {
		t.Fatalf("status %+v; want head %s still held, and an error", st, head)
	}
}
