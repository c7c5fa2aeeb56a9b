package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newPeersCommand(g *globals) *cobra.Command {
	var wait int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "List connected peers, one per line: peer ID, address",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			peers, err := c.Peers(cmd.Context(), wait, timeout)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(peers)
			}
			for _, p := range peers {
				fmt.Fprintf(g.stdout, "%s %s\n", escape(p.ID), escape(p.Addr))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&wait, "wait", 0, "first wait until at least this many peers are connected")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long --wait may wait")
	return cmd
}
