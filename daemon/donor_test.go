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
	if _, err := dc.Donate(ctx, api.DonateRequest{Accounts: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "not an account ID") {
		t.Fatalf("serving a bad account: %v", err)
	}
	quota, yes, no := int64(1<<30), true, false
	st, err := dc.Donate(ctx, api.DonateRequest{Accounts: []string{acct.Account}, Quota: &quota})
	if err != nil {
		t.Fatal(err)
	}
	if st.Quota != 1<<30 || len(st.Accounts) != 1 || st.Accounts[0].Account != acct.Account || st.Open {
		t.Fatalf("after donate: %+v", st)
	}
	// Open needs a per-account bound; then it is open until told not.
	if _, err := dc.Donate(ctx, api.DonateRequest{Open: &yes}); err == nil || !strings.Contains(err.Error(), "--per-account") {
		t.Fatalf("open with no per-account bound: %v", err)
	}
	per := int64(1 << 29)
	if st, err = dc.Donate(ctx, api.DonateRequest{PerAccount: &per, Open: &yes}); err != nil || !st.Open || st.PerAccount != per {
		t.Fatalf("after --open --per-account: %+v, %v", st, err)
	}
	if st, err = dc.Donate(ctx, api.DonateRequest{Open: &no}); err != nil || st.Open || len(st.Accounts) != 1 {
		t.Fatalf("after --open=false: %+v, %v", st, err)
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
