package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/api"
)

func newIPFSCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ipfs",
		Short: "Plain IPFS content: unencrypted, readable by any IPFS node",
		Long: `Plain IPFS content (UnixFS, CIDv1, 1 MiB raw leaves): unencrypted and
readable by any IPFS node. Use it only for what you mean to publish.`,
	}
	cmd.AddCommand(newIPFSAddCommand(g), newIPFSCatCommand(g), newIPFSGetCommand(g), newPinCommand(g), newCARCommand(g))
	return cmd
}

func newIPFSAddCommand(g *globals) *cobra.Command {
	var pin bool
	cmd := &cobra.Command{
		Use:   "add FILE|DIR",
		Short: "Add a file or folder; print its CID on the last line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			p := args[0]
			fi, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("failed to read %s: %w", p, err)
			}
			var added api.Added
			if fi.Mode().IsRegular() {
				f, err := os.Open(p)
				if err != nil {
					return fmt.Errorf("failed to read %s: %w", p, err)
				}
				defer f.Close()
				bar := g.newProgress(fi.Size(), "adding")
				added, err = c.Add(cmd.Context(), api.ContentFile, withProgress(f, bar), pin)
				finish(bar)
				if err != nil {
					return err
				}
			} else if fi.IsDir() {
				total, err := treeSize(p)
				if err != nil {
					return fmt.Errorf("failed to read %s: %w", p, err)
				}
				bar := g.newProgress(total, "adding")
				pr, pw := io.Pipe()
				go func() {
					pw.CloseWithError(writeTree(p, pw, func(r io.Reader) io.Reader { return withProgress(r, bar) }, func(s string) {
						fmt.Fprintf(g.stderr, "skipped %s: not a regular file or folder\n", escape(s))
					}))
				}()
				added, err = c.Add(cmd.Context(), api.ContentTar, pr, pin)
				pr.CloseWithError(io.ErrClosedPipe)
				finish(bar)
				if err != nil {
					return err
				}
			} else {
				return fmt.Errorf("%s is neither a file nor a folder", p)
			}
			if g.json {
				return g.printJSON(added)
			}
			fmt.Fprintln(g.stdout, escape(added.CID))
			return nil
		},
	}
	cmd.Flags().BoolVar(&pin, "pin", true, "pin the added content so GC keeps it")
	return cmd
}

func newIPFSCatCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "cat CID",
		Short: "Write a file's bytes to stdout, fetching from peers as needed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			body, err := c.Cat(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer body.Close()
			if _, err := io.Copy(g.stdout, body); err != nil {
				return fmt.Errorf("failed to read %s: %w", args[0], err)
			}
			return nil
		},
	}
}

func newIPFSGetCommand(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "get CID [-o PATH]",
		Short: "Save a file or folder, fetching from peers as needed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Base(args[0])
			}
			resp, err := c.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			total, _ := strconv.ParseInt(resp.Header.Get("X-Content-Size"), 10, 64)
			bar := g.newProgress(total, "getting")
			err = extractTar(resp.Body, out, func(r io.Reader) io.Reader { return withProgress(r, bar) })
			finish(bar)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(map[string]string{"cid": args[0], "path": out})
			}
			fmt.Fprintf(g.stdout, "saved %s to %s\n", escape(args[0]), escape(out))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to save (default: the CID, in the current folder)")
	return cmd
}

func newPinCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pin",
		Short: "Keep content in the store: add, rm, ls",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "add CID",
		Short: "Fetch a whole DAG from peers and keep it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			res, err := c.PinAdd(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(res)
			}
			fmt.Fprintf(g.stdout, "pinned %s\n", escape(res.CID))
			return nil
		},
	}, &cobra.Command{
		Use:   "rm CID",
		Short: "Stop keeping a DAG (GC may then remove it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.PinRm(cmd.Context(), args[0]); err != nil {
				return err
			}
			if g.json {
				return g.printJSON(map[string]string{"cid": args[0]})
			}
			fmt.Fprintf(g.stdout, "unpinned %s\n", escape(args[0]))
			return nil
		},
	}, &cobra.Command{
		Use:   "ls",
		Short: "List pins, one per line: CID, type",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			pins, err := c.PinLs(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(pins)
			}
			for _, p := range pins {
				fmt.Fprintf(g.stdout, "%s %s\n", escape(p.CID), escape(p.Type))
			}
			return nil
		},
	})
	return cmd
}
