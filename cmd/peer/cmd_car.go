package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newCARCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "car",
		Short: "Move whole DAGs in and out as CAR files, as 'ipfs dag export/import' do",
	}
	cmd.AddCommand(newCARExportCommand(g), newCARImportCommand(g))
	return cmd
}

func newCARExportCommand(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export CID [-o FILE]",
		Short: "Write the whole DAG at CID as a CAR (v1) to FILE or stdout, fetching from peers as needed",
		Long: `Write the whole DAG at CID as a CAR (v1), to FILE or stdout, fetching
from peers what this node lacks. Any DAG works, an account's encrypted
vault too (its blocks stay encrypted). 'peer ipfs car import' or
'ipfs dag import' reads it back.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			body, err := c.CARExport(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer body.Close()
			if out == "" || out == "-" {
				if _, err := io.Copy(g.stdout, body); err != nil {
					return fmt.Errorf("failed to export %s: %w", args[0], err)
				}
				return nil
			}
			// Into a temporary file beside FILE, renamed once complete, so a
			// broken export never leaves a CAR that looks whole.
			f, err := os.CreateTemp(filepath.Dir(out), ".peer-car-*")
			if err != nil {
				return fmt.Errorf("failed to write %s: %w", out, err)
			}
			defer os.Remove(f.Name())
			if _, err := io.Copy(f, body); err != nil {
				f.Close()
				return fmt.Errorf("failed to export %s: %w", args[0], err)
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return fmt.Errorf("failed to write %s: %w", out, err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("failed to write %s: %w", out, err)
			}
			return os.Rename(f.Name(), out)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default: stdout)")
	return cmd
}

func newCARImportCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE|-",
		Short: "Store the blocks of a CAR (v1 or v2) and pin its roots; print each root's CID",
		Long: `Store the blocks of a CAR (v1 or v2), each checked against its CID, and
pin each of its roots; what the CAR lacks of a root's DAG is fetched from
peers first. Prints each root's CID on a line of its own.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var in io.Reader = g.stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("failed to read %s: %w", args[0], err)
				}
				defer f.Close()
				in = f
			}
			res, err := c.CARImport(cmd.Context(), in)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "imported %d blocks (%d bytes)\n", res.Blocks, res.Bytes)
			for _, r := range res.Roots {
				fmt.Fprintln(g.stdout, r.CID)
			}
			return nil
		},
	}
}
