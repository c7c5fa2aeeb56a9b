package donor_test

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/donor"
)

// TestRestartResumes: a donor restarted holds what it held, fetches
// nothing for the record it had, and takes the next change by fetching
// only that change.
func TestRestartResumes(t *testing.T) {
	a := startDevice(t, nil)
	dn := startDonor(t, nil, donor.Config{Accounts: []peer.ID{a.id()}}, a.node.AddrInfo())
	a.write(t, "big.bin", random(2<<20))
	head := a.head()
	before := dn.waitFor(t, "A's head", func(s donor.AccountStatus) bool { return s.Head == head })
	dn.close()

	dn = startDonor(t, dn, donor.Config{Accounts: []peer.ID{a.id()}}, a.node.AddrInfo())
	st := dn.svc.Status().Accounts[0]
	if st.Head != head || st.Bytes != before.Bytes {
		t.Fatalf("after restart %+v; want %+v", st, before)
	}
	a.write(t, "small.txt", []byte("a small change"))
	head = a.head()
	dn.waitFor(t, "the next head", func(s donor.AccountStatus) bool { return s.Head == head })
	if got := dn.svc.Status().Fetched; got > 64<<10 {
		t.Errorf("the restarted donor fetched %d bytes for a small change; want only the change", got)
	}
	if st := dn.svc.Status().Accounts[0]; st.LastRepublish.IsZero() {
		t.Errorf("the restarted donor did not republish the record it held")
	}
}
