package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newIDCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "id",
		Short: "Print this node's peer ID (--json: with addresses)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			id, err := c.ID(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(id)
			}
			fmt.Fprintln(g.stdout, escape(id.ID))
			return nil
		},
	}
}
