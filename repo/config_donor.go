package repo

import (
	"fmt"
	"net"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/vault"
)

// Donor configures lending this node's disk to other accounts (package
// donor): which accounts it mirrors, how much it takes, how much history
// it keeps, how often it puts their names again. 'peer donate' changes
// the accounts and quotas of a running daemon too (kept in the repo, over
// these).
type Donor struct {
	// Only makes a node with no account of its own, that only serves
	// others ('peer init --donor'): no vault, no sync, no WebDAV.
	Only bool `toml:"only"`
	// Accounts lists the accounts served (k51... IDs, as 'peer status'
	// shows them).
	Accounts []string `toml:"accounts"`
	// Quota bounds the bytes of all served accounts together ("0": none
	// but the disk); PerAccount the bytes of each.
	Quota      Size `toml:"quota"`
	PerAccount Size `toml:"per_account"`
	// Open takes any account whose device asks, while the quota holds
	// another at per_account (which open needs).
	Open bool `toml:"open"`
	// PinningListen serves the IPFS Pinning Service API at this
	// host:port (plain HTTP, bearer tokens from 'peer donate
	// pinning-token'); "" is off.
	PinningListen string `toml:"pinning_listen"`
	// KeepSnapshots keeps at most this many snapshots of each account, the
	// newest first (0: all); KeepFor those taken in within this long
	// ("0s": any age). The newest snapshot is always kept.
	KeepSnapshots int      `toml:"keep_snapshots"`
	KeepFor       duration `toml:"keep_for"`
	// RepublishInterval is how often each served account's newest record
	// is put again on the DHT and pubsub.
	RepublishInterval duration `toml:"republish_interval"`
}

// Size is a byte count written like "50GiB", "500MB" or "0".
type Size int64

func (s *Size) UnmarshalText(b []byte) error {
	v, err := humanize.ParseBytes(string(b))
	if err != nil || v > 1<<62 {
		return fmt.Errorf("bad size %q (examples: 0, 500MiB, 50GiB)", b)
	}
	*s = Size(v)
	return nil
}

func (s Size) MarshalText() ([]byte, error) {
	if s == 0 {
		return []byte("0"), nil
	}
	return []byte(humanize.IBytes(uint64(s))), nil
}

func (s Size) String() string { b, _ := s.MarshalText(); return string(b) }

func defaultDonor() Donor {
	return Donor{Accounts: []string{}, RepublishInterval: duration{4 * time.Hour}}
}

// DonorAccounts parses Donor.Accounts.
func (c Config) DonorAccounts() ([]peer.ID, error) {
	var out []peer.ID
	for _, a := range c.Donor.Accounts {
		id, err := vault.ParseAccountID(a)
		if err != nil {
			return nil, fmt.Errorf("donor.accounts: %q is not an account ID (k51..., as 'peer status' shows it): %w", a, err)
		}
		out = append(out, id)
	}
	return out, nil
}

func (c Config) validateDonor() error {
	if _, err := c.DonorAccounts(); err != nil {
		return err
	}
	d := c.Donor
	if d.Quota < 0 || d.PerAccount < 0 {
		return fmt.Errorf("donor.quota and donor.per_account must not be negative")
	}
	if d.Quota > 0 && d.PerAccount > d.Quota {
		return fmt.Errorf("donor.per_account (%s) is over donor.quota (%s): lower it, or raise the quota", d.PerAccount, d.Quota)
	}
	if d.Open && d.PerAccount == 0 {
		return fmt.Errorf("donor.open needs donor.per_account (e.g. \"10GiB\"): an open donor takes accounts that ask, each up to that bound")
	}
	if d.PinningListen != "" {
		if _, _, err := net.SplitHostPort(d.PinningListen); err != nil {
			return fmt.Errorf("donor.pinning_listen %q is not a host:port, e.g. \"0.0.0.0:5011\" (or \"\" for off)", d.PinningListen)
		}
	}
	if d.KeepSnapshots < 0 {
		return fmt.Errorf("donor.keep_snapshots must be 0 (all) or more")
	}
	if d.KeepFor.Duration < 0 {
		return fmt.Errorf("donor.keep_for must not be negative")
	}
	if d.RepublishInterval.Duration < time.Second {
		return fmt.Errorf("donor.republish_interval must be at least 1s, e.g. \"4h\" (records are valid for days; DHT peers drop them 48 h after a put)")
	}
	return nil
}

// donorTemplate goes before [api] in config.toml, whose listen key, the
// last, tells a config cut short.
const donorTemplate = `
[donor]
# Lend this node's disk to other accounts: it mirrors their encrypted
# files (it holds no key: it can read nothing) and keeps their names alive.
# only = true: this node has no account of its own and only serves others.
only = %t
# Accounts to serve, e.g. ["k51qzi5uqu5d..."] ('peer donate' adds more).
accounts = %s
# Bytes all served accounts may take together, and each one ("0": no bound
# but the disk), e.g. "50GiB". An account over its share keeps its newest
# snapshot and as much of its history as fits.
quota = %q
per_account = %q
# open = true: take any account whose device on the LAN asks, while the
# quota holds another at per_account (which must be set).
open = %t
# Serve the IPFS Pinning Service API (for 'ipfs pin remote' of stock IPFS
# nodes) at this host:port, e.g. "0.0.0.0:5011": plain HTTP, each client
# with a token from 'peer donate pinning-token'. Empty: off.
pinning_listen = %q
# History kept of each account: at most keep_snapshots snapshots (0: all),
# taken in within keep_for ("0s": any age). The newest is always kept.
keep_snapshots = %d
keep_for = %q
# How often each served account's newest record is put again.
republish_interval = %q
`

func (d Donor) encode(list func([]string) string) string {
	return fmt.Sprintf(donorTemplate, d.Only, list(d.Accounts), d.Quota.String(), d.PerAccount.String(), d.Open, d.PinningListen, d.KeepSnapshots, d.KeepFor.String(), d.RepublishInterval.String())
}
