package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/vault"
)

func newStatusCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the account, its head, its last publication and the connected peers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(st)
			}
			fmt.Fprintf(g.stdout, "account  %s\ndevice   %s\n", escape(st.Account), escape(st.Device))
			if st.Head != "" {
				fmt.Fprintf(g.stdout, "head     %s (snapshot %d)\n", escape(st.Head), st.Seq)
			} else {
				fmt.Fprintln(g.stdout, "head     none (the vault is empty)")
			}
			fmt.Fprintf(g.stdout, "devices  %d\n", len(st.Devices))
			if p := st.LastPublish; p != nil {
				fmt.Fprintf(g.stdout, "published %s: record %d to %d pubsub peers and %d DHT peers (DHT: %s)\n", p.Time.Local().Format("2006-01-02 15:04:05.000"), p.Seq, p.PubsubPeers, p.DHTPeers, escape(p.DHT))
			}
			if st.KeysErr != "" {
				fmt.Fprintf(g.stdout, "keys: %s\n", escape(st.KeysErr))
			}
			if st.PublishErr != "" {
				fmt.Fprintf(g.stdout, "last publication failed: %s\n", escape(st.PublishErr))
			}
			if st.LAN != "" {
				fmt.Fprintf(g.stdout, "lan      WebDAV at %s\n", escape(st.LAN))
			}
			if st.TLSFingerprint != "" {
				fmt.Fprintf(g.stdout, "tls      certificate SHA-256 %s\n", st.TLSFingerprint)
			}
			fmt.Fprintf(g.stdout, "peers    %d\n", len(st.Peers))
			for _, p := range st.Peers {
				fmt.Fprintf(g.stdout, "  %s %s\n", escape(p.ID), escape(p.Addr))
			}
			return nil
		},
	}
}

func newResolveCommand(g *globals) *cobra.Command {
	var dhtOnly bool
	cmd := &cobra.Command{
		Use:   "resolve ACCOUNT",
		Short: "Print the CID an account's name points to (its account root)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			r, err := c.Resolve(cmd.Context(), args[0], dhtOnly)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(r)
			}
			fmt.Fprintln(g.stdout, escape(r.Root))
			return nil
		},
	}
	cmd.Flags().BoolVar(&dhtOnly, "dht", false, "ask the DHT alone, not the pubsub cache")
	return cmd
}

// splitAccountPath reads "ACCOUNT:/path"; ok is false for a vault path.
func splitAccountPath(s string) (account, p string, ok bool) {
	a, p, found := strings.Cut(s, ":")
	if !found {
		return "", "", false
	}
	if _, err := vault.ParseAccountID(a); err != nil {
		return "", "", false
	}
	if p == "" {
		p = "/"
	}
	return a, p, true
}
