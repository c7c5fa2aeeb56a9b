package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/repo"
)

// TestDonateAPI: a donor with no account of its own (donor.only) serves
// another account through /donor/serve, holds its head once it changes,
// reports it in /donor, and lets it go on /donor/stop; what needs an
// account is refused with why.
func TestDonateAPI(t *testing.T) {
	ctx := context.Background()
	owner, oc := start(t)
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	cfg.Donor.Only = true
	ai := owner.Node().AddrInfo()
	cfg.Network.Peers = []string{ai.Addrs[0].String() + "/p2p/" + ai.ID.String()}
	r, err := repo.Init(t.TempDir(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, dc := startRepo(t, r)
	acct, err := oc.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dc.Status(ctx); err == nil || !strings.Contains(err.Error(), "donor with no account") {
		t.Fatalf("status of a donor with no account: %v", err)
	}
	if r.AccountSecret != nil {
		t.Fatal("the donor's repo has an account")
	}
	if _, err := dc.Donate(ctx, []string{"nope"}, -1, -1); err == nil || !strings.Contains(err.Error(), "not an account ID") {
		t.Fatalf("serving a bad account: %v", err)
	}
	st, err := dc.Donate(ctx, []string{acct.Account}, 1<<30, -1)
	if err != nil {
		t.Fatal(err)
	}
	if st.Quota != 1<<30 || len(st.Accounts) != 1 || st.Accounts[0].Account != acct.Account {
		t.Fatalf("after donate: %+v", st)
	}
	f := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(f, []byte("held by the donor"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := oc.VaultAdd(ctx, "/", []string{f}, nil); err != nil {
		t.Fatal(err)
	}
	acct, err = oc.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var held api.DonorStatus
	waitUntil(t, 20*time.Second, "the donor holds the owner's head", func() bool {
		held, err = dc.DonorStatus(ctx)
		return err == nil && len(held.Accounts) == 1 && held.Accounts[0].Head == acct.Head
	})
	if a := held.Accounts[0]; a.Bytes == 0 || a.Snapshots != 1 || a.Seq == 0 {
		t.Errorf("donor status %+v", a)
	}
	st, err = dc.DonateStop(ctx, acct.Account)
	if err != nil || len(st.Accounts) != 0 {
		t.Fatalf("after stop: %+v, %v", st, err)
	}
	if _, err := dc.DonateStop(ctx, acct.Account); err == nil || !strings.Contains(err.Error(), "does not serve") {
		t.Fatalf("stopping again: %v", err)
	}
}
