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

// writeConfig writes s as the config of a fresh repo and opens it.
func writeConfig(t *testing.T, s string) (*Repo, error) {
	t.Helper()
	dir := t.TempDir()
	if _, err := Init(dir, DefaultConfig(), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return Open(dir)
}

// TestConfigRefusesEmpty: an empty config would take the defaults (mDNS
// on, listening on every interface) without the user having chosen them.
func TestConfigRefusesEmpty(t *testing.T) {
	for _, s := range []string{"", "\n\n", "# only a comment\n"} {
		_, err := writeConfig(t, s)
		if err == nil || !strings.Contains(err.Error(), "is empty") || !strings.Contains(err.Error(), "peer init") {
			t.Errorf("config %q: error %v; want one saying it is empty and how to write a fresh one", s, err)
		}
	}
}

// TestConfigRefusesMissingKeys: a config that lacks a key every 'peer
// init' wrote is damaged; the error names the key.
func TestConfigRefusesMissingKeys(t *testing.T) {
	full := string(DefaultConfig().encode())
	for _, key := range []string{"profile", "network.listen", "network.mdns", "network.peers",
		"network.fetch_window", "network.reprovide_interval", "api.listen"} {
		table, name, ok := strings.Cut(key, ".")
		if !ok {
			table, name = "", key
		}
		var out []string
		section := ""
		for _, l := range strings.Split(full, "\n") {
			if strings.HasPrefix(l, "[") {
				section = strings.Trim(l, "[]")
			}
			if section == table && strings.HasPrefix(l, name+" =") {
				continue
			}
			out = append(out, l)
		}
		_, err := writeConfig(t, strings.Join(out, "\n"))
		if err == nil || !strings.Contains(err.Error(), "lacks "+key) || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("without %s: error %v; want one naming the key", key, err)
		}
	}
	// Cut short anywhere after the first key: never silently accepted.
	first := strings.Index(full, "profile =")
	for n := first; n < len(full)-1; n += 7 {
		c, err := writeConfig(t, full[:n])
		if err == nil {
			t.Fatalf("config cut at byte %d of %d loaded: %+v", n, len(full), c.Config)
		}
	}
}

// TestConfigOfFirstReleaseLoads: keys added after the first release
// (names.*) take their defaults, so repos made then keep working.
func TestConfigOfFirstReleaseLoads(t *testing.T) {
	b, err := os.ReadFile("testdata/config-first-release.toml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := writeConfig(t, string(b))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Config.Names, DefaultConfig().Names; got != want {
		t.Fatalf("names %+v; want the defaults %+v", got, want)
	}
}

// TestConfigRefusesNonLoopbackAPI: the API is plain HTTP with a bearer
// token, so it must not be reachable from the network.
func TestConfigRefusesNonLoopbackAPI(t *testing.T) {
	for _, tc := range []struct {
		listen string
		ok     bool
	}{
		{"127.0.0.1:5010", true},
		{"127.0.0.2:0", true},
		{"[::1]:5010", true},
		{"localhost:5010", true},
		{"0.0.0.0:5010", false},
		{":5010", false},
		{"[::]:5010", false},
		{"192.168.1.20:5010", false},
		{"10.0.0.1:5010", false},
		{"example.com:5010", false},
		{"127.0.0.1", false},
		{"127.0.0.1:http", false},
		{"127.0.0.1:70000", false},
	} {
		c := DefaultConfig()
		c.API.Listen = tc.listen
		err := c.Validate()
		if tc.ok && err != nil {
			t.Errorf("api.listen %q refused: %v", tc.listen, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "api.listen")) {
			t.Errorf("api.listen %q: error %v; want a refusal naming api.listen", tc.listen, err)
		}
	}
	full := strings.Replace(string(DefaultConfig().encode()), `"127.0.0.1:5010"`, `"0.0.0.0:5010"`, 1)
	if _, err := writeConfig(t, full); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("config with api.listen on every interface: error %v; want one saying it must be loopback", err)
	}
}

// TestConfigRefusesEmptyListen: a node that listens nowhere cannot work.
func TestConfigRefusesEmptyListen(t *testing.T) {
	full := string(DefaultConfig().encode())
	i := strings.Index(full, "listen = [")
	j := i + strings.Index(full[i:], "\n")
	_, err := writeConfig(t, full[:i]+"listen = []"+full[j:])
	if err == nil || !strings.Contains(err.Error(), "network.listen") || !strings.Contains(err.Error(), "/ip4/") {
		t.Fatalf("empty network.listen: error %v; want one naming it with an example", err)
	}
}

// TestInitKeepsAnAccountWithoutConfig: a repo that lost its config still
// holds its account; init must not replace the account's key.
func TestInitKeepsAnAccountWithoutConfig(t *testing.T) {
	dir := t.TempDir()
	secret := []byte("0123456789abcdef0123456789abcdef")
	if _, err := Init(dir, DefaultConfig(), secret); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ConfigFile)); err != nil {
		t.Fatal(err)
	}
	_, err := Init(dir, DefaultConfig(), []byte("another account's secret 32 byte"))
	if err == nil || !strings.Contains(err.Error(), AccountFile) {
		t.Fatalf("init over a repo without config: error %v; want a refusal naming %s", err, AccountFile)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, AccountFile)); string(b) != string(secret) {
		t.Fatalf("account.key is now %q", b)
	}
}

// FuzzLoadConfig: whatever bytes config.toml holds, loading gives a valid
// config or an error, never a panic.
func FuzzLoadConfig(f *testing.F) {
	f.Add(string(DefaultConfig().encode()))
	f.Add("profile = 1\n[network]\nlisten = [1]")
	f.Add("")
	if b, err := os.ReadFile("testdata/config-first-release.toml"); err == nil {
		f.Add(string(b))
	}
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
