package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/repo"
)

func newDonateCommand(g *globals) *cobra.Command {
	var quota, perAccount, accounts string
	var open bool
	cmd := &cobra.Command{
		Use:   "donate [--accounts ACCOUNT,...] [--quota SIZE] [--per-account SIZE] [--open[=false]]",
		Short: "Lend disk to other accounts: mirror their files, keep their names alive",
		Long: `Lend this node's disk to other accounts. For each account served, the
daemon follows its changes (pubsub at once, the LAN DHT as the fallback),
keeps its encrypted files and their history, and puts the account's newest
name record again before it expires, so the account stays reachable while
its own devices are off. It holds no key of the accounts it serves: it can
read nothing of their files.

--quota bounds what all served accounts take together, --per-account each
one (e.g. 50GiB; 0: no bound). An account over its share keeps its newest
snapshot and as much history as fits; one whose newest snapshot alone is
over it is not taken further ('peer donate status' says so).

--open (with a --per-account bound) makes an open donor: it takes any
account whose device on the LAN asks (each device of an account asks
every open donor it meets, signing with the account's key), while the
quota holds another at the per-account bound. 'peer donate stop' on an
account that asked keeps it out; --open=false takes no more (those taken
stay served).

  peer donate --quota 500GiB --per-account 20GiB --open

The same settings live in config.toml's [donor] section (read at start);
what 'peer donate' sets is kept in the repo and goes over it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := parseSizeFlag("--quota", quota)
			if err != nil {
				return err
			}
			per, err := parseSizeFlag("--per-account", perAccount)
			if err != nil {
				return err
			}
			req := api.DonateRequest{}
			if q >= 0 {
				req.Quota = &q
			}
			if per >= 0 {
				req.PerAccount = &per
			}
			if cmd.Flags().Changed("open") {
				req.Open = &open
			}
			var list []string
			for _, a := range strings.Split(accounts, ",") {
				if a = strings.TrimSpace(a); a != "" {
					list = append(list, a)
				}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			req.Accounts = list
			st, err := c.Donate(cmd.Context(), req)
			if err != nil {
				return err
			}
			return g.printDonor(st)
		},
	}
	cmd.Flags().StringVar(&accounts, "accounts", "", "accounts to serve, comma-separated (k51... IDs from 'peer status' on their devices)")
	cmd.Flags().StringVar(&quota, "quota", "", "bytes all served accounts may take together, e.g. 50GiB (0: no bound)")
	cmd.Flags().StringVar(&perAccount, "per-account", "", "bytes each served account may take, e.g. 10GiB (0: no bound)")
	cmd.Flags().BoolVar(&open, "open", false, "take any account whose device asks, each at the per-account bound (--open=false: take no more)")
	cmd.AddCommand(newDonateStatusCommand(g), newDonateStopCommand(g), newDonatePinningTokenCommand(g))
	return cmd
}

// parseSizeFlag reads a size flag; -1 when not given.
func parseSizeFlag(name, s string) (int64, error) {
	if s == "" {
		return -1, nil
	}
	n, err := humanize.ParseBytes(s)
	if err != nil || n > 1<<62 {
		return 0, fmt.Errorf("%s %q is not a size: write it like 500MiB or 50GiB, or 0 for no bound", name, s)
	}
	return int64(n), nil
}

func newDonateStatusCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the accounts served: head held, bytes, history kept, last change and republish, errors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			st, err := c.DonorStatus(cmd.Context())
			if err != nil {
				return err
			}
			return g.printDonor(st)
		},
	}
}

func newDonatePinningTokenCommand(g *globals) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "pinning-token [--name NAME]",
		Short: "Issue a token for a client of this node's IPFS Pinning Service API",
		Long: `Issue a bearer token for a client of the IPFS Pinning Service API this node
serves on donor.pinning_listen (set it in config.toml and restart the
daemon first), and print it with the endpoint. A stock IPFS node (Kubo)
then pins through this node:

  ipfs pin remote service add NAME ENDPOINT TOKEN
  ipfs pin remote add --service=NAME CID

The endpoint is plain HTTP: give tokens only to clients on your LAN. The
node keeps only each token's hash, under an ID (its first 12 digits):
'peer donate pinning-token ls' lists them, 'peer donate pinning-token
revoke ID' refuses a token from then on (what its client pinned stays
pinned).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			t, err := c.DonorPinningToken(cmd.Context(), name)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(t)
			}
			fmt.Fprintf(g.stderr, "token %s issued. For Kubo: ipfs pin remote service add NAME %s %s\n(the endpoint's host is what donor.pinning_listen says: use this node's LAN address if it listens on all)\n", t.ID, t.Endpoint, t.Token)
			fmt.Fprintln(g.stdout, t.Token)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "a name to know the token by in 'pinning-token ls' (e.g. the client's host)")
	cmd.AddCommand(&cobra.Command{
		Use:   "ls",
		Short: "List the pinning tokens issued and not revoked (IDs, names, when issued)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			ts, err := c.DonorPinningTokens(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(ts)
			}
			if len(ts) == 0 {
				fmt.Fprintln(g.stdout, "no pinning tokens: 'peer donate pinning-token' issues one")
				return nil
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tISSUED\tNAME")
			for _, t := range ts {
				issued := "before names"
				if !t.Issued.IsZero() {
					issued = t.Issued.Local().Format("2006-01-02 15:04:05")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, issued, escape(t.Name))
			}
			return tw.Flush()
		},
	}, &cobra.Command{
		Use:   "revoke ID|TOKEN",
		Short: "Revoke a pinning token: its client is refused from now on (its pins stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			t, err := c.DonorPinningRevoke(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(t)
			}
			fmt.Fprintf(g.stdout, "revoked token %s %s\n", t.ID, escape(t.Name))
			return nil
		},
	})
	return cmd
}

func newDonateStopCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "stop ACCOUNT",
		Short: "Stop serving an account and let go of what it held (freed at the next GC)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			st, err := c.DonateStop(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return g.printDonor(st)
		},
	}
}

func (g *globals) printDonor(st api.DonorStatus) error {
	if g.json {
		return g.printJSON(st)
	}
	bound := func(n int64) string {
		if n == 0 {
			return "no bound"
		}
		return humanize.IBytes(uint64(n))
	}
	keep := "all history"
	if st.KeepSnapshots > 0 || st.KeepFor > 0 {
		keep = fmt.Sprintf("at most %d snapshots, taken in within %s (0: no bound)", st.KeepSnapshots, st.KeepFor)
	}
	fmt.Fprintf(g.stdout, "quota %s, per account %s, used %s; keeps %s\n", bound(st.Quota), bound(st.PerAccount), humanize.IBytes(uint64(st.Used)), keep)
	if st.Open {
		fmt.Fprintln(g.stdout, "open: takes any account whose device asks, while the quota holds another")
	}
	if len(st.Accounts) == 0 {
		fmt.Fprintln(g.stdout, "serving no account: 'peer donate --accounts ACCOUNT' serves one")
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tHEAD\tBYTES\tSNAPSHOTS\tCHANGED\tREPUBLISHED\tNOTE")
	when := func(t time.Time) string {
		if t.IsZero() || t.Year() < 2000 {
			return "never"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	}
	for _, a := range st.Accounts {
		head := "none yet"
		if a.Head != "" {
			head = short(a.Head)
		}
		var note []string
		switch a.Cut {
		case "quota":
			note = append(note, "older history dropped for the quota")
		case "policy":
			note = append(note, "older history not kept (policy)")
		}
		if a.Refused != "" {
			note = append(note, "newest change over the quota, not taken")
		}
		if a.Error != "" {
			note = append(note, escape(a.Error))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", a.Account, head, humanize.IBytes(uint64(a.Bytes)), a.Snapshots,
			when(a.LastChange), when(a.LastRepublish), strings.Join(note, "; "))
	}
	return tw.Flush()
}

// runInitDonor makes a repo for a donor with no account of its own
// ('peer init --donor'): donor.only set in its config.
func runInitDonor(g *globals, dir, profile string, withAccount bool) error {
	if withAccount {
		return errors.New("--donor makes a node with no account: it cannot take --recover or --link")
	}
	p, err := blockstore.ParseProfile(profile)
	if err != nil {
		return err
	}
	cfg := repo.DefaultConfigFor(p)
	cfg.Donor.Only = true
	r, err := repo.Init(dir, cfg, nil)
	if err != nil {
		return err
	}
	res := initResult{Repo: dir, Device: r.PeerID().String(), Profile: r.Config.Profile}
	if g.json {
		return g.printJSON(res)
	}
	fmt.Fprintf(g.stdout, "initialised %s as a donor with no account (profile %s)\ndevice  %s\n\nStart it with 'peer daemon', then serve accounts with 'peer donate --accounts ACCOUNT'\nor in the [donor] section of %s.\n", escape(dir), res.Profile, res.Device, repo.ConfigFile)
	return nil
}
