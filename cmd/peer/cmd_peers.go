package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newPeersCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "peers",
		Short: "List connected peers, one per line: peer ID, address",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			peers, err := c.Peers(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(peers)
			}
			for _, p := range peers {
				fmt.Fprintf(g.stdout, "%s %s\n", p.ID, p.Addr)
			}
			return nil
		},
	}
}
