package donor_test

import (
	"fmt"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/donor"
)

// TestHistoryPolicy: with keep_snapshots 2, the donor keeps the head and
// its parent, says the rest is not kept by policy, and its bytes shrink
// to what those two hold once older files are gone.
func TestHistoryPolicy(t *testing.T) {
	a := startDevice(t, nil)
	dn := startDonor(t, nil, donor.Config{Accounts: []peer.ID{a.id()}, Keep: donor.Keep{Snapshots: 2}}, a.node.AddrInfo())
	var st donor.AccountStatus
	for i := range 4 {
		name := fmt.Sprintf("f%d", i)
		a.write(t, name, random(256<<10))
		head := a.head()
		st = dn.waitFor(t, "head "+name, func(s donor.AccountStatus) bool { return s.Head == head })
		if i > 0 {
			a.remove(t, name)
			head = a.head()
			st = dn.waitFor(t, "removal of "+name, func(s donor.AccountStatus) bool { return s.Head == head })
		}
	}
	if st.Snapshots != 2 || st.Cut != "policy" {
		t.Fatalf("status %+v; want 2 snapshots, history cut by policy", st)
	}
	// Kept: the last removal and the write before it: f0 and f3.
	if st.Bytes < 2*256<<10 || st.Bytes > 3*256<<10 {
		t.Errorf("donor holds %d bytes; want about 512 KiB (f0 and f3)", st.Bytes)
	}
}
