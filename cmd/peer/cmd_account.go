package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/link"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

func newAccountCommand(g *globals) *cobra.Command {
	var qr bool
	cmd := &cobra.Command{
		Use:   "account [--qr]",
		Short: "Show this node's account, device and head snapshot",
		Long: `Show this node's account ID, device and head snapshot. --qr also shows the
account ID as a QR code, for another person to scan and add as a contact
or share with; the ID is public (it is the account's IPNS name).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			a, err := c.Account(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(a)
			}
			if qr {
				code, err := link.QR(a.Account)
				if err != nil {
					return err
				}
				fmt.Fprint(g.stdout, code)
			}
			fmt.Fprintf(g.stdout, "account %s\ndevice  %s\n", escape(a.Account), escape(a.Device))
			if a.Head != "" {
				fmt.Fprintf(g.stdout, "head    %s (seq %d, %s)\n", escape(a.Head), a.Seq, a.Time.Local().Format("2006-01-02 15:04:05"))
			} else {
				fmt.Fprintln(g.stdout, "head    none yet (the vault is empty)")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&qr, "qr", false, "also show the account ID as a QR code")
	cmd.AddCommand(&cobra.Command{
		Use:   "phrase",
		Short: "Show the account's recovery phrase (reads the repo; no daemon needed)",
		Long: `Show the 24-word recovery phrase of the repo's account. Anyone who sees it
can read and change everything in the account: show it only where nobody
looks over your shoulder, and keep the written copy safe.

Once a device was removed, the account's keys were rotated: a second line
shows the recovery key of the newest key epoch (its number and 24 words).
The phrase restores what was written before the first removal; the phrase
and the newest recovery key restore everything.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := g.repoDir()
			if err != nil {
				return err
			}
			r, err := repo.Open(dir)
			if err != nil {
				return err
			}
			if r.AccountSecret == nil {
				return fmt.Errorf("%s has no account yet: start 'peer daemon' once to make one", dir)
			}
			a, err := vault.AccountFromSecret(r.AccountSecret)
			if err != nil {
				return err
			}
			e, err := newestEpoch(g)
			if err != nil {
				return err
			}
			if g.json {
				out := map[string]string{"account": a.ID(), "recovery": a.Phrase()}
				if e.N > 0 {
					out["recovery_key"] = e.RecoveryKey()
				}
				return g.printJSON(out)
			}
			fmt.Fprintln(g.stdout, a.Phrase())
			if e.N > 0 {
				// Alone on its line, so 'peer account phrase | peer init
				// --recover' restores everything.
				fmt.Fprintln(g.stdout, e.RecoveryKey())
				fmt.Fprintf(g.stderr, "(the second line is the recovery key of key epoch %d: keep it with the phrase)\n", e.N)
			}
			return nil
		},
	})
	return cmd
}
