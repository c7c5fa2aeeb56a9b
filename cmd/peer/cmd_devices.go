package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

func newDevicesCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List the account's devices: name, peer ID, when linked, last seen",
		Long: `List the account's devices as this device knows them (from the account
roots it has seen): name, peer ID, when the account certified it, and when
it was last connected to this device. Removed devices come last, with who
removed them and when. 'peer devices remove ID' removes one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			devs, err := c.Devices(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(devs)
			}
			tw := tabwriter.NewWriter(g.stdout, 2, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPEER ID\tLINKED\tLAST SEEN\t")
			now := time.Now()
			for _, d := range devs {
				name := escape(d.Name)
				if name == "" {
					name = "?"
				}
				seen := ago(d.LastSeen, now)
				switch {
				case d.This:
					seen = "this device"
				case d.Connected:
					seen = "connected"
				}
				note := ""
				if d.Removed {
					note = fmt.Sprintf("removed %s by %s", stamp(d.RemovedAt), d.RemovedBy)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, d.ID, stamp(d.Linked), seen, note)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(newDevicesRemoveCommand(g))
	return cmd
}

func newDevicesRemoveCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a device from the account (by peer ID, a prefix of it, or its name)",
		Long: `Remove a device from the account. The removal, signed by the account and by
this device, goes into the account root; every device that sees it refuses
the removed device from then on: its announcements, the changes it writes
and its certificate. The removed device, if its software is unchanged,
stops publishing and taking in changes once it hears of the removal.
A removed device cannot come back: link it again ('peer link', then
'peer init --link' in a new repo) and it gets a new ID.

Removal rotates the account's keys: what any device writes from then on
is sealed under a new key epoch, given to the remaining devices only. The
recovery phrase alone no longer restores that: this prints a recovery key
(the epoch's number and 24 words). Write it down with the phrase; 'peer
init --recover' takes both. 'peer account phrase' shows them again.

What removal cannot do: the removed device held the account's root secret.
It can still read everything the account held before; with the secret it
can sign records in the account's name, and a changed program can pretend
to be another device or certify a new one. Removal is for a device you
retire or lost; for a stolen one, also move to a new account:

  1. on a device you still have: peer devices remove ID
  2. peer get / -o ~/vault-copy          (everything, newest versions)
  3. stop the daemon, move its repo away (keep it for history), then
     peer init, peer daemon, peer add ~/vault-copy/*
     (a new account: write down its new phrase)
  4. on each other device: stop its daemon, move its repo away, and run
     'peer link' on the new one, 'peer init --link' there
  5. tell people you share with the new account ID.
The old account's data stays readable to whoever holds the stolen device.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			d, err := c.RemoveDevice(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(d)
			}
			fmt.Fprintf(g.stdout, "removed %s (%s)\n", escape(d.Name), d.ID)
			fmt.Fprintln(g.stderr, "The other devices refuse it once they see this device's next root. It can still read what it held; if it was stolen, see 'peer devices remove --help'.")
			// The key is read from the repo, never sent over the API.
			if e, err := newestEpoch(g); err == nil && e.N > 0 {
				fmt.Fprintf(g.stderr, "\nThe account's keys were rotated (key epoch %d). Write down this recovery key next to the\nrecovery phrase: with it, 'peer init --recover' restores what is written from now on.\n\n", e.N)
				fmt.Fprintf(g.stdout, "recovery key: %s\n", e.RecoveryKey())
			} else if err != nil {
				return err
			}
			return nil
		},
	}
}

// stamp formats a time for a table, "-" when absent.
func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// ago formats how long ago t was, "never" when absent.
func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	d := now.Sub(*t).Round(time.Second)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return stamp(t)
}

// newestEpoch reads the newest key epoch from the repo (N 0 when the keys
// were never rotated).
func newestEpoch(g *globals) (vault.Epoch, error) {
	dir, err := g.repoDir()
	if err != nil {
		return vault.Epoch{}, err
	}
	r, err := repo.Open(dir)
	if err != nil {
		return vault.Epoch{}, err
	}
	b, err := r.ReadEpochs()
	if err != nil || b == nil || r.AccountSecret == nil {
		return vault.Epoch{}, err
	}
	es, err := vault.ParseEpochs(b)
	if err != nil {
		return vault.Epoch{}, fmt.Errorf("failed to read %s: %w", repo.EpochsFile, err)
	}
	a, err := vault.AccountFromSecret(r.AccountSecret)
	if err != nil {
		return vault.Epoch{}, err
	}
	if _, err := a.AddEpochs(es...); err != nil {
		return vault.Epoch{}, err
	}
	return a.Epoch(), nil
}
