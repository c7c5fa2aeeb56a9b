package main

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
)

func newStatsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Show what the node moved",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "bitswap",
		Short: "Blocks and bytes Bitswap sent and received since the daemon started",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			st, err := c.BitswapStat(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(st)
			}
			fmt.Fprintf(g.stdout, "received %d blocks (%s), %d duplicate\nsent     %d blocks (%s)\nwanted   %d blocks\npeers    %d\n",
				st.BlocksReceived, humanize.IBytes(st.DataReceived), st.DupBlocks, st.BlocksSent, humanize.IBytes(st.DataSent), st.Wantlist, st.Peers)
			return nil
		},
	})
	return cmd
}
