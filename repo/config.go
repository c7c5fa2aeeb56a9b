package repo

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/p2p"
)

// Config is the node's configuration, kept in config.toml in the repo.
type Config struct {
	// Profile picks storage and network limits: "default" or "pi".
	Profile string  `toml:"profile"`
	Network Network `toml:"network"`
	Names   Names   `toml:"names"`
	API     API     `toml:"api"`
	LAN     LAN     `toml:"lan"`
	Donor   Donor   `toml:"donor"`
}

// LAN configures serving WebDAV to other machines of the LAN.
type LAN struct {
	// Listen is the host:port to serve /dav/ and the web UI on over TLS,
	// with the node's certificate and to the 'peer passwd' password only;
	// "" is off.
	Listen string `toml:"listen"`
}

// Names configures how the account is published to its other devices and
// how their changes are followed.
type Names struct {
	// Pubsub sends and receives the account's records and changes on
	// pubsub, the fast path; off, devices learn of changes through the
	// LAN DHT only.
	Pubsub bool `toml:"pubsub"`
	// CatchUp is how often the LAN DHT is asked for the account's latest
	// record (it is also asked when a peer connects).
	CatchUp duration `toml:"catch_up_interval"`
}

// Network configures the libp2p side.
type Network struct {
	// Listen lists the multiaddrs to listen on.
	Listen []string `toml:"listen"`
	// MDNS turns LAN discovery by multicast DNS on or off.
	MDNS bool `toml:"mdns"`
	// Peers lists static peers (multiaddrs ending in /p2p/ID), dialled at
	// start and kept connected.
	Peers []string `toml:"peers"`
	// FetchWindow is how many blocks a fetch keeps requested at once.
	FetchWindow int `toml:"fetch_window"`
	// ReprovideInterval is how often pinned roots are announced to the DHT
	// again; "0s" turns reproviding off.
	ReprovideInterval duration `toml:"reprovide_interval"`
}

// API configures the daemon's HTTP API.
type API struct {
	// Listen is the host:port of the HTTP API. Keep it on loopback: every
	// request needs the token in the repo, but the traffic is plain HTTP.
	Listen string `toml:"listen"`
}

type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("bad duration %q (examples: 12h, 30m, 0s): %w", b, err)
	}
	d.Duration = v
	return nil
}

func (d duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultConfigFor returns the configuration a new repo with profile p
// gets: DefaultConfig, with a smaller fetch window (16 MiB in flight) on
// the pi profile.
func DefaultConfigFor(p blockstore.Profile) Config {
	c := DefaultConfig()
	c.Profile = string(p)
	if p == blockstore.ProfilePi {
		c.Network.FetchWindow = 16
	}
	return c
}

// DefaultConfig returns the configuration a new repo gets.
func DefaultConfig() Config {
	return Config{
		Profile: string(blockstore.ProfileDefault),
		Network: Network{
			Listen: []string{
				"/ip4/0.0.0.0/tcp/4010",
				"/ip4/0.0.0.0/udp/4010/quic-v1",
				"/ip6/::/tcp/4010",
				"/ip6/::/udp/4010/quic-v1",
			},
			MDNS:              true,
			Peers:             []string{},
			FetchWindow:       p2p.DefaultFetchWindow,
			ReprovideInterval: duration{12 * time.Hour},
		},
		Names: Names{Pubsub: true, CatchUp: duration{30 * time.Second}},
		API:   API{Listen: "127.0.0.1:5010"},
		Donor: defaultDonor(),
	}
}

// configTemplate is written to config.toml by Init. Comments explain each
// key; values come from the Config.
const configTemplate = `# peer node configuration. Restart the daemon after editing.

# Storage and network limits: "default" for desktops and servers, "pi" for
# small boards (small Badger memtables, no block cache, fewer connections).
profile = %q

[network]
# Addresses to listen on (TCP and QUIC). Use port 0 for a random port.
listen = %s
# Find and connect to peers on the LAN by multicast DNS.
mdns = %t
# Peers to dial at start and keep connected, e.g.
# "/ip4/192.168.1.20/tcp/4010/p2p/12D3KooW...".
peers = %s
# Blocks a download keeps requested at once (1 MiB each for files added by
# peer). Larger windows fill faster links; each costs memory while in flight.
fetch_window = %d
# How often pinned content is announced again on the LAN DHT ("0s": never).
reprovide_interval = %q

[names]
# Send and receive the account's records and changes on pubsub, so its other
# devices see a change within milliseconds. Off: they learn of it through the
# LAN DHT only, within catch_up_interval.
pubsub = %t
# How often the LAN DHT is asked for the account's latest record (it is also
# asked whenever a peer connects).
catch_up_interval = %q

[lan]
# Serve WebDAV (/dav/) and the web UI (/) to other machines at this host:port, e.g.
# "0.0.0.0:5443": over TLS with the node's certificate (tls.crt; 'peer status'
# shows its fingerprint) and to the password set with 'peer passwd' only.
# Empty: off.
listen = %q
%s
[api]
# The daemon's HTTP API (used by the peer command). Every request must carry
# the token in the repo's api.token file. Loopback only (127.0.0.1, [::1] or
# localhost): the API is plain HTTP.
listen = %q
`

func (c Config) encode() []byte {
	list := func(xs []string) string {
		s := "["
		for i, x := range xs {
			if i > 0 {
				s += ", "
			}
			s += fmt.Sprintf("%q", x)
		}
		return s + "]"
	}
	return []byte(fmt.Sprintf(configTemplate, c.Profile, list(c.Network.Listen), c.Network.MDNS,
		list(c.Network.Peers), c.Network.FetchWindow, c.Network.ReprovideInterval.String(),
		c.Names.Pubsub, c.Names.CatchUp.String(), c.LAN.Listen, c.Donor.encode(list), c.API.Listen))
}

// requiredKeys are the keys every config.toml written by 'peer init' has
// held since the first release. A config without one of them is damaged
// (emptied or cut short), and its defaults (mDNS on, listening on every
// interface) are not what its owner chose. Keys added later (names.*) may
// be missing and take their defaults, so older repos keep working.
var requiredKeys = []toml.Key{
	{"profile"},
	{"network", "listen"},
	{"network", "mdns"},
	{"network", "peers"},
	{"network", "fetch_window"},
	{"network", "reprovide_interval"},
	{"api", "listen"},
}

// freshConfigHint says how to get a config back without touching the
// repo's keys ('peer init' over the repo would make a new account).
const freshConfigHint = "restore config.toml from a backup, or copy the one of a fresh repo ('peer init --repo NEWDIR') and edit it"

func loadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("failed to read config: %w", err)
	}
	c := DefaultConfig()
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		return Config{}, fmt.Errorf("failed to parse %s (%s): %w", path, freshConfigHint, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return Config{}, fmt.Errorf("failed to parse %s: unknown key %q (see the comments in a fresh config from 'peer init')", path, und[0].String())
	}
	if len(md.Keys()) == 0 {
		return Config{}, fmt.Errorf("%s is empty: %s", path, freshConfigHint)
	}
	for _, k := range requiredKeys {
		if !md.IsDefined(k...) {
			return Config{}, fmt.Errorf("%s lacks %s: it may be truncated; %s", path, k, freshConfigHint)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("invalid %s: %w", path, err)
	}
	return c, nil
}

// Validate checks every value and says which one is wrong.
func (c Config) Validate() error {
	if _, err := blockstore.ParseProfile(c.Profile); err != nil {
		return err
	}
	if len(c.Network.Listen) == 0 {
		return fmt.Errorf("network.listen is empty: the node needs an address to listen on, e.g. [\"/ip4/0.0.0.0/tcp/4010\", \"/ip4/0.0.0.0/udp/4010/quic-v1\"]")
	}
	for _, a := range c.Network.Listen {
		if _, err := ma.NewMultiaddr(a); err != nil {
			return fmt.Errorf("network.listen: %q is not a multiaddr: %w", a, err)
		}
	}
	if _, err := c.StaticPeers(); err != nil {
		return err
	}
	if c.Network.FetchWindow < 1 || c.Network.FetchWindow > 4096 {
		return fmt.Errorf("network.fetch_window must be between 1 and 4096, not %d", c.Network.FetchWindow)
	}
	if c.Network.ReprovideInterval.Duration < 0 {
		return fmt.Errorf("network.reprovide_interval must not be negative")
	}
	if c.Names.CatchUp.Duration < 100*time.Millisecond {
		return fmt.Errorf("names.catch_up_interval must be at least 100ms, e.g. \"30s\"")
	}
	if c.LAN.Listen != "" {
		if _, port, err := net.SplitHostPort(c.LAN.Listen); err != nil || port == "" {
			return fmt.Errorf("lan.listen %q is not a host:port, e.g. \"0.0.0.0:5443\" (or \"\" to serve nothing to the LAN)", c.LAN.Listen)
		}
	}
	if err := c.validateDonor(); err != nil {
		return err
	}
	return checkAPIListen(c.API.Listen)
}

// checkAPIListen accepts a host:port on loopback only: the API is plain
// HTTP, so its token would cross the network in clear.
func checkAPIListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("api.listen %q is not host:port, e.g. \"127.0.0.1:5010\"", s)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port != strconv.FormatUint(n, 10) {
		return fmt.Errorf("api.listen %q: the port must be a number from 0 to 65535, e.g. \"127.0.0.1:5010\"", s)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("api.listen %q is not a loopback address: the API is plain HTTP and its token would cross the network in clear; use 127.0.0.1, [::1] or localhost", s)
	}
	return nil
}

// StaticPeers parses Network.Peers.
func (c Config) StaticPeers() ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range c.Network.Peers {
		ai, err := peer.AddrInfoFromString(s)
		if err != nil {
			return nil, fmt.Errorf("network.peers: %q is not a multiaddr ending in /p2p/PEERID: %w", s, err)
		}
		out = append(out, *ai)
	}
	return out, nil
}
