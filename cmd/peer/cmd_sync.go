package main

import (
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/api"
)

func newSyncCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Keep local folders identical to vault folders",
		Long: `Keep local folders identical to vault folders, both ways: what changes on
disk goes into the vault, and what other devices change is written to disk.
A change made on two devices while apart keeps both (a conflict copy named
NAME.sync-conflict-YYYYMMDD-HHMMSS-DEVICE.EXT, the same on every device).

A synced folder holds a .peer-folder marker; if it is gone (an unmounted
disk) the folder stops instead of syncing "everything deleted". Patterns in
.peerignore (Syncthing's .stignore syntax) leave paths out. Symlinks and
special files are not synced.`,
	}
	cmd.AddCommand(newSyncAddCommand(g), newSyncLsCommand(g), newSyncRmCommand(g), newSyncStatusCommand(g))
	return cmd
}

func newSyncAddCommand(g *globals) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "add DIR [--to /VAULT/PATH]",
		Short: "Start syncing a local folder (made if missing) with a vault folder",
		Long: `Start syncing the local folder DIR with the vault folder --to (default /
and DIR's name); either is made if missing. When both already hold files,
they are merged: nothing is deleted on either side, and a path both hold
with different content keeps both. The daemon reads and writes DIR itself.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			dir, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			if to != "" {
				to = vaultPath(to)
			}
			f, err := c.SyncAdd(cmd.Context(), dir, to)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(f)
			}
			fmt.Fprintf(g.stdout, "syncing %s with %s\n", escape(f.Dir), escape(f.Vault))
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "vault folder (default: / and the folder's name)")
	return cmd
}

func newSyncLsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the synced folders",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			fs, err := c.SyncLs(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(fs)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			for _, f := range fs {
				fmt.Fprintf(tw, "%s\t%s\n", escape(f.Dir), escape(f.Vault))
			}
			return tw.Flush()
		},
	}
}

func newSyncRmCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm DIR",
		Short: "Stop syncing a folder (nothing is deleted, on disk or in the vault)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			dir, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			if err := c.SyncRm(cmd.Context(), dir); err != nil {
				return err
			}
			if g.json {
				return g.printJSON(map[string]string{"dir": dir})
			}
			fmt.Fprintf(g.stdout, "stopped syncing %s (nothing was deleted)\n", escape(dir))
			return nil
		},
	}
}

func newSyncStatusCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status [DIR]",
		Short: "Show what each synced folder is doing, and every path not in sync and why",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			dir := ""
			if len(args) == 1 {
				if dir, err = filepath.Abs(args[0]); err != nil {
					return err
				}
			}
			ss, err := c.SyncStatus(cmd.Context(), dir)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(ss)
			}
			for i, s := range ss {
				if i > 0 {
					fmt.Fprintln(g.stdout)
				}
				printSyncStatus(g, s)
			}
			if len(ss) == 0 {
				fmt.Fprintln(g.stdout, "no synced folders (add one with 'peer sync add DIR')")
			}
			return nil
		},
	}
}

func printSyncStatus(g *globals, s api.SyncStatus) {
	fmt.Fprintf(g.stdout, "%s  %s\n", escape(s.Dir), escape(s.Vault))
	fmt.Fprintf(g.stdout, "  state    %s, %d pending; %d files, %d folders\n", s.State, s.Pending, s.Files, s.Folders)
	if s.LastError != "" {
		fmt.Fprintf(g.stdout, "  error    %s\n", escape(s.LastError))
	}
	if s.Warning != "" {
		fmt.Fprintf(g.stdout, "  warning  %s\n", escape(s.Warning))
	}
	for _, p := range s.OutOfSync {
		fmt.Fprintf(g.stdout, "  not in sync: %s: %s\n", escape(p.Path), escape(p.Reason))
	}
	if n := s.OutOfSyncCount - len(s.OutOfSync); n > 0 {
		fmt.Fprintf(g.stdout, "  ... and %d more (--json lists the first %d)\n", n, len(s.OutOfSync))
	}
}
