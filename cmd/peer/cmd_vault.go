package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/share"
)

// vaultPath turns a user's path into a vault path: "docs/a" and "/docs/a"
// are both "/docs/a".
func vaultPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

func newAddCommand(g *globals) *cobra.Command {
	var to string
	var shareWith []string
	cmd := &cobra.Command{
		Use:   "add PATH... [--to DIR]",
		Short: "Encrypt files and folders into the vault",
		Long: `Encrypt files and folders (recursively) into the vault, as /NAME or under
--to DIR, in one snapshot. A path that exists gets a new version; files
whose content, mode and time did not change are left as they are.

The daemon reads the files itself, so it must be able to read them.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var total int64
			abs := make([]string, len(args))
			for i, p := range args {
				if abs[i], err = filepath.Abs(p); err != nil {
					return err
				}
				n, err := treeSize(abs[i])
				if err != nil {
					return fmt.Errorf("failed to read %s: %w", p, err)
				}
				total += n
			}
			bar := g.newProgress(total, "adding")
			res, err := c.VaultAddRequest(cmd.Context(), vaultPath(to), api.AddRequest{Paths: abs, ShareWith: shareWith}, func(n uint64) {
				if bar != nil {
					bar.Set64(int64(n))
				}
			})
			finish(bar)
			for _, s := range res.Skipped {
				fmt.Fprintf(g.stderr, "skipped %s\n", escape(s))
			}
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(res)
			}
			if len(res.Added) <= 20 {
				for _, e := range res.Added {
					fmt.Fprintf(g.stdout, "added %s (%s)\n", escape(e.Path), humanize.IBytes(e.Size))
				}
			}
			fmt.Fprintf(g.stdout, "%d files, %d new folders, %s", res.Files, res.Dirs, humanize.IBytes(res.Bytes))
			if res.Unchanged > 0 {
				fmt.Fprintf(g.stdout, ", %d unchanged", res.Unchanged)
			}
			fmt.Fprintln(g.stdout)
			if len(res.SharedWith) > 0 {
				fmt.Fprintf(g.stderr, "shared each file added with %s\n", strings.Join(res.SharedWith, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "/", "vault folder to add into (made if missing)")
	cmd.Flags().StringSliceVar(&shareWith, "share-with", nil, "share each file added with these accounts (IDs or contact names; see 'peer share --with')")
	return cmd
}

// linkArgs takes min to max arguments, and one more after a link: a path
// inside the folder it opens.
func linkArgs(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 && share.IsLink(args[0]) {
			return cobra.RangeArgs(1, 2)(cmd, args)
		}
		return cobra.RangeArgs(min, max)(cmd, args)
	}
}

// linkPath is the path inside a link's folder that args give after it.
func linkPath(args []string) string {
	if len(args) == 2 {
		return args[1]
	}
	return ""
}

func newLsCommand(g *globals) *cobra.Command {
	var long bool
	cmd := &cobra.Command{
		Use:   "ls [DIR | ACCOUNT:/DIR | LINK [PATH]] [-l]",
		Short: "List a vault folder, a folder of an account's public index, or what a link opens",
		Args:  linkArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			p := "/"
			var es []api.Entry
			if len(args) > 0 {
				if share.IsLink(args[0]) {
					return g.lsLink(cmd, args[0], linkPath(args), long)
				}
				if acct, ap, ok := splitAccountPath(args[0]); ok {
					es, err = c.PublicLs(cmd.Context(), acct, ap)
					if err != nil {
						return err
					}
					return printEntries(g, es, long)
				}
				p = vaultPath(args[0])
			}
			es, err = c.VaultLs(cmd.Context(), p)
			if err != nil {
				return err
			}
			return printEntries(g, es, long)
		},
	}
	cmd.Flags().BoolVarP(&long, "long", "l", false, "show mode, size and time")
	return cmd
}

func newCatCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "cat PATH | LINK [PATH] | ACCOUNT:/PATH",
		Short: "Write a vault file, the file a link opens (or one in its folder), or a published file, to stdout",
		Args:  linkArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if share.IsLink(args[0]) {
				resp, err := g.linkResponse(cmd, args[0], linkPath(args))
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				return copyAll(g.stdout, resp.Body, resp.ContentLength, "the shared file")
			}
			if acct, ap, ok := splitAccountPath(args[0]); ok {
				c, err := g.client()
				if err != nil {
					return err
				}
				resp, err := c.PublicCat(cmd.Context(), acct, ap)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				return copyAll(g.stdout, resp.Body, resp.ContentLength, args[0])
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			resp, err := c.VaultCat(cmd.Context(), vaultPath(args[0]), "", 0, -1)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			return copyAll(g.stdout, resp.Body, resp.ContentLength, args[0])
		},
	}
}

// copyAll copies a download and checks it is as long as announced (an
// error on the daemon's side after the first byte shortens the body).
func copyAll(w io.Writer, r io.Reader, want int64, what string) error {
	n, err := io.Copy(w, r)
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", what, err)
	}
	if want >= 0 && n != want {
		return fmt.Errorf("failed to read %s: got %d of %d bytes (see the daemon's log)", what, n, want)
	}
	return nil
}

func newGetCommand(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "get PATH | LINK [PATH] | ACCOUNT:/PATH [-o OUT]",
		Short: "Save a vault file or folder (its newest version), what a link opens, or a published file or folder",
		Args:  linkArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if share.IsLink(args[0]) {
				return g.getLink(cmd, args[0], linkPath(args), out)
			}
			if acct, ap, ok := splitAccountPath(args[0]); ok {
				return g.getPublic(cmd, acct, ap, out)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			p := vaultPath(args[0])
			if out == "" {
				out = path.Base(p)
				if p == "/" {
					out = "vault"
				}
			}
			resp, err := c.VaultGet(cmd.Context(), p, "")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if err := g.saveDownload(resp, out); err != nil {
				return err
			}
			if g.json {
				return g.printJSON(map[string]string{"path": p, "output": out})
			}
			fmt.Fprintf(g.stdout, "saved %s to %s\n", escape(p), escape(out))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to save (default: the name, in the current folder)")
	return cmd
}

// saveDownload saves a download as out, with a progress bar: a tar
// stream (a folder) is extracted there, anything else is one file.
func (g *globals) saveDownload(resp *http.Response, out string) error {
	bar := g.newProgress(resp.ContentLength, "getting")
	count := func(r io.Reader) io.Reader { return withProgress(r, bar) }
	var err error
	if resp.Header.Get("Content-Type") == api.ContentTar {
		err = extractTar(resp.Body, out, count)
	} else {
		err = saveFile(out, count(resp.Body), resp.ContentLength)
	}
	finish(bar)
	return err
}

// saveFile writes a downloaded file to out, which must not exist; size is
// the length announced (-1: unknown). A short or failed download leaves no
// file behind.
func saveFile(out string, r io.Reader, size int64) error {
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("failed to create %s (remove it or choose another -o): %w", out, err)
	}
	if err := copyAll(f, r, size, out); err != nil {
		f.Close()
		os.Remove(out)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(out)
		return fmt.Errorf("failed to write %s: %w", out, err)
	}
	return nil
}

func newMkdirCommand(g *globals) *cobra.Command {
	var parents bool
	cmd := &cobra.Command{
		Use:   "mkdir DIR [-p]",
		Short: "Make a vault folder",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return c.VaultMkdir(cmd.Context(), vaultPath(args[0]), parents)
		},
	}
	cmd.Flags().BoolVarP(&parents, "parents", "p", false, "make missing parents; no error if it exists")
	return cmd
}

func newMvCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "mv FROM TO",
		Short: "Move or rename a vault file or folder (into TO when it is a folder)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return c.VaultMv(cmd.Context(), vaultPath(args[0]), vaultPath(args[1]))
		},
	}
}

func newRmCommand(g *globals) *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "rm PATH [-r]",
		Short: "Remove a vault file or folder (its history stays: see 'peer history')",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			e, err := c.VaultRm(cmd.Context(), vaultPath(args[0]), recursive)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(e)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "remove a folder with everything in it")
	return cmd
}

func newHistoryCommand(g *globals) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "history [PATH]",
		Short: "List snapshots, or the versions of one file (deleted ones too), newest first",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			if len(args) == 0 {
				snaps, err := c.Snapshots(cmd.Context(), limit)
				if err != nil {
					return err
				}
				if g.json {
					return g.printJSON(snaps)
				}
				for _, s := range snaps {
					fmt.Fprintf(tw, "%s\t%s\tseq %d\t%s\n", escape(s.ID), s.Time.Local().Format("2006-01-02 15:04:05"), s.Seq, escape(short(s.Device)))
				}
				return tw.Flush()
			}
			vs, err := c.Versions(cmd.Context(), vaultPath(args[0]), limit)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(vs)
			}
			for _, v := range vs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", escape(v.ID), v.Time.Local().Format("2006-01-02 15:04:05"), humanize.IBytes(v.Size), escape(short(v.Device)))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most this many (0: all)")
	return cmd
}

// short shortens a peer ID for tables.
func short(id string) string {
	if len(id) > 16 {
		return id[:6] + "…" + id[len(id)-6:]
	}
	return id
}

func newRestoreCommand(g *globals) *cobra.Command {
	var version, out string
	cmd := &cobra.Command{
		Use:   "restore PATH --version ID [-o OUT]",
		Short: "Make an old version of a file the newest again, or save it to OUT",
		Long: `Make version ID (from 'peer history PATH') the newest version of PATH again;
this works for deleted files too, and keeps the versions in between. With
-o, save that version to OUT instead and leave the vault as it is.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			p := vaultPath(args[0])
			if out != "" {
				resp, err := c.VaultCat(cmd.Context(), p, version, 0, -1)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				if err := saveFile(out, resp.Body, resp.ContentLength); err != nil {
					return err
				}
				if g.json {
					return g.printJSON(map[string]string{"path": p, "version": version, "output": out})
				}
				fmt.Fprintf(g.stdout, "saved version %s of %s to %s\n", escape(version), escape(p), escape(out))
				return nil
			}
			e, err := c.Restore(cmd.Context(), p, version)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(e)
			}
			fmt.Fprintf(g.stdout, "restored %s (%s) as version %s\n", escape(p), humanize.IBytes(e.Size), escape(e.ID))
			return nil
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "the version ID to restore (required)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "save the version here instead of restoring it in the vault")
	cmd.MarkFlagRequired("version")
	return cmd
}

// printEntries prints a listing: names (folders with a /), or with -l
// mode, size, time and name.
func printEntries(g *globals, es []api.Entry, long bool) error {
	if g.json {
		return g.printJSON(es)
	}
	if !long {
		for _, e := range es {
			if e.Type == "dir" {
				fmt.Fprintln(g.stdout, escape(e.Name)+"/")
			} else {
				fmt.Fprintln(g.stdout, escape(e.Name))
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, e := range es {
		name, size := escape(e.Name), humanize.IBytes(e.Size)
		mode := os.FileMode(e.Mode).String()
		if e.Type == "dir" {
			name, size, mode = name+"/", "-", (os.ModeDir | os.FileMode(e.Mode)).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t %s\n", mode, size, e.Mtime.Local().Format("2006-01-02 15:04"), name)
	}
	return tw.Flush()
}
