package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/api"
)

func newReplicasCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replicas [PATH]",
		Short: "Show who holds this account's files: its other devices, donors, and other providers",
		Long: `Ask the connected peers what they hold of this account, or of the newest
version at PATH, and have each prove it: every device of the account and
every donor that mirrors it answers with a receipt it signs (the account
root and head it holds), and proves it holds blocks this device picked at
random from the head's tree (or from PATH's version), by hashing each
with a fresh nonce, without sending them. PROVED counts the proofs that
match this device's own blocks. Peers the LAN DHT names as providers of
the tree (or of the version) that did not answer are listed as
"provider", unproved.

A holder whose HEAD is not this device's holds an older or a newer head
(one still syncing).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			p := ""
			if len(args) == 1 {
				p = vaultPath(args[0])
			}
			out, err := c.Replicas(cmd.Context(), p)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(out)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PEER\tROLE\tHEAD\tPROVED\tANSWERED")
			proved := 0
			for _, h := range out.Holders {
				head := "-"
				switch {
				case h.Error != "":
					head = "error: " + h.Error
				case h.Current:
					head = "current"
				case h.Head != "":
					head = "other (" + short(h.Head) + ")"
				}
				answered := "-"
				if !h.Time.IsZero() {
					answered = h.Time.Local().Format(time.TimeOnly)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\n", h.Peer, h.Role, head, h.Proved, out.Probes, answered)
				if h.Proved == out.Probes && h.Error == "" {
					proved++
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			what := "the account's head"
			if out.Path != "" {
				what = escape(out.Path)
			}
			fmt.Fprintf(g.stderr, "%d other peer(s) proved they hold %s\n", proved, what)
			return nil
		},
	}
	cmd.AddCommand(newReplicasAddServiceCommand(g), newReplicasServicesCommand(g), newReplicasRmServiceCommand(g))
	return cmd
}

func newReplicasAddServiceCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "add-service NAME URL TOKEN",
		Short: "Keep the account pinned at an IPFS Pinning Service API endpoint",
		Long: `Keep the account's newest root pinned at an IPFS Pinning Service API
endpoint (a pinning company's, or a donor's: 'peer donate pinning-token'
there gives a token). The device asks it at once, and again with each
new root (one request, replaced), so the service holds the account's
whole encrypted DAG; it can read nothing of it. 'peer replicas services'
shows how each stands.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			list, err := c.RemotePinAdd(cmd.Context(), args[0], args[1], args[2])
			if err != nil {
				return err
			}
			return g.printRemotePins(list)
		},
	}
}

func newReplicasServicesCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "services",
		Short: "List the pinning services the account is kept pinned at",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			list, err := c.RemotePins(cmd.Context())
			if err != nil {
				return err
			}
			return g.printRemotePins(list)
		},
	}
}

func newReplicasRmServiceCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm-service NAME",
		Short: "Stop keeping the account pinned at a service (its request there is deleted)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			list, err := c.RemotePinRm(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return g.printRemotePins(list)
		},
	}
}

func (g *globals) printRemotePins(list []api.RemotePin) error {
	if g.json {
		return g.printJSON(list)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURL\tSTATUS\tROOT\tCHECKED")
	for _, s := range list {
		st := s.Status
		if s.Error != "" {
			st += " (" + s.Error + ")"
		}
		if st == "" {
			st = "not asked yet"
		}
		checked := "-"
		if !s.Checked.IsZero() {
			checked = s.Checked.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", escape(s.Name), escape(s.URL), st, short(s.Root), checked)
	}
	return tw.Flush()
}
