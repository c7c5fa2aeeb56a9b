package repo

import (
	"strings"
	"testing"
	"time"
)

// TestConfigDonor: the donor section of a fresh config loads back, a
// filled one is read, and each bad value is refused by name.
func TestConfigDonor(t *testing.T) {
	full := string(DefaultConfig().encode())
	r, err := writeConfig(t, full)
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Config.Donor; len(d.Accounts) != 0 || d.Quota != 0 || d.RepublishInterval.Duration != 4*time.Hour {
		t.Fatalf("fresh donor section %+v", d)
	}
	const acct = "k51qzi5uqu5dj2bzxu6zylailjxazxdjfac9b3oneclsfjoje0fg6yi3gh9vsn"
	set := func(key, val string) string {
		var out []string
		section := ""
		for _, l := range strings.Split(full, "\n") {
			if strings.HasPrefix(l, "[") {
				section = strings.Trim(l, "[]")
			}
			if section == "donor" && strings.HasPrefix(l, key+" =") {
				l = key + " = " + val
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	r, err = writeConfig(t, set("accounts", `["`+acct+`"]`))
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := r.Config.DonorAccounts(); err != nil || len(ids) != 1 {
		t.Fatalf("accounts %v, %v", ids, err)
	}
	r, err = writeConfig(t, set("quota", `"50GiB"`))
	if err != nil || r.Config.Donor.Quota != 50<<30 {
		t.Fatalf("quota: %v, %v", err, r)
	}
	for _, bad := range []struct{ key, val, want string }{
		{"accounts", `["nope"]`, "donor.accounts"},
		{"quota", `"lots"`, "bad size"},
		{"keep_snapshots", `-1`, "donor.keep_snapshots"},
		{"republish_interval", `"0s"`, "donor.republish_interval"},
	} {
		if _, err := writeConfig(t, set(bad.key, bad.val)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("donor.%s = %s: error %v; want one with %q", bad.key, bad.val, err, bad.want)
		}
	}
}
