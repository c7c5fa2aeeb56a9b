package repo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peer-cloud/peer/blockstore"
)

func TestConfigRoundTrip(t *testing.T) {
	for _, p := range []blockstore.Profile{blockstore.ProfileDefault, blockstore.ProfilePi} {
		dir := t.TempDir()
		want := DefaultConfigFor(p)
		want.Network.Peers = []string{"/ip4/10.0.0.2/tcp/4010/p2p/12D3KooWQjK5kJCx7MoAAUYXVGHEnkw6ka8H4QJyDCXfvvMt3hW7"}
		r, err := Init(dir, want, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got.PeerID() != r.PeerID() || got.Token != r.Token {
			t.Fatal("identity or token changed between Init and Open")
		}
		if got.Config.Profile != want.Profile || got.Config.Network.FetchWindow != want.Network.FetchWindow ||
			len(got.Config.Network.Peers) != 1 || got.Config.Network.ReprovideInterval != want.Network.ReprovideInterval {
			t.Fatalf("config read back as %+v; want %+v", got.Config, want)
		}
		for _, f := range []string{IdentityFile, TokenFile, ConfigFile} {
			fi, err := os.Stat(filepath.Join(dir, f))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s: mode %v, %v; want 0600", f, fi.Mode().Perm(), err)
			}
		}
		if _, err := Init(dir, want, nil); err == nil {
			t.Fatal("Init over an existing repo succeeded")
		}
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	for _, tc := range []struct{ edit, want string }{
		{`profile = "huge"`, "unknown profile"},
		{`fetch_window = 0`, "fetch_window"},
		{`reprovide_interval = "soon"`, "bad duration"},
		{`mdnss = true`, "unknown key"},
		{`peers = ["/ip4/1.2.3.4/tcp/1"]`, "network.peers"},
	} {
		dir := t.TempDir()
		if _, err := Init(dir, DefaultConfig(), nil); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, ConfigFile)
		b, _ := os.ReadFile(p)
		key, _, _ := strings.Cut(tc.edit, " =")
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, key+" =") {
				continue
			}
			out = append(out, l)
			if l == "[network]" && key != "profile" {
				out = append(out, tc.edit)
			}
		}
		if key == "profile" {
			out = append([]string{tc.edit}, out...)
		}
		os.WriteFile(p, []byte(strings.Join(out, "\n")), 0o600)
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want one mentioning %q", tc.edit, err, tc.want)
		}
	}
}

// FuzzLoadConfig: whatever bytes config.toml holds, loading gives a valid
// config or an error, never a panic.
func FuzzLoadConfig(f *testing.F) {
	f.Add(string(DefaultConfig().encode()))
	f.Add("profile = 1\n[network]\nlisten = [1]")
	f.Fuzz(func(t *testing.T, s string) {
		p := filepath.Join(t.TempDir(), ConfigFile)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(p)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("loaded a config that does not validate: %v", verr)
			}
		}
	})
}
