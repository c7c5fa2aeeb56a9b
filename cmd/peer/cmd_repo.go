package main

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

func newRepoCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repo",
		Short: "Inspect and clean the block store",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "stat",
		Short: "Show blocks, stored vs logical bytes, disk use and pins",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			st, err := c.RepoStat(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(st)
			}
			fmt.Fprintf(g.stdout, "blocks        %d\nstored bytes  %d (%s): everything held, all history, encrypted and deduplicated\nlogical bytes %d (%s): the files in the vault now\ndisk bytes    %d (%s)\npins          %d\nprofile       %s\n",
				st.Blocks, st.StoredBytes, humanize.IBytes(uint64(st.StoredBytes)), st.LogicalBytes, humanize.IBytes(st.LogicalBytes),
				st.DiskBytes, humanize.IBytes(uint64(st.DiskBytes)), st.Pins, st.Profile)
			fmt.Fprintf(g.stdout, "dht records   %d of %d, %s of %s: names and keys held for this node and others; %d puts refused since start\n",
				st.DHTRecords, st.DHTMaxRecords, humanize.IBytes(uint64(st.DHTRecordBytes)), humanize.IBytes(uint64(st.DHTMaxBytes)), st.DHTRefused)
			return nil
		},
	}, &cobra.Command{
		Use:   "gc",
		Short: "Remove every block no pin needs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			res, err := c.RepoGC(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(res)
			}
			fmt.Fprintf(g.stdout, "removed %d blocks (%s), kept %d\n", res.Removed, humanize.IBytes(uint64(res.FreedBytes)), res.Kept)
			return nil
		},
	})
	return cmd
}
