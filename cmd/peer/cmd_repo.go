package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/daemon"
	"github.com/peer-cloud/peer/repo"
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
	}, &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every block; check that every pin and the account's whole history are present",
		Long: `verify reads every block in the store and re-hashes it against its CID,
then walks every pin and the account's head with all its history, and lists
the blocks that are damaged (bytes that do not match, unreadable) or missing,
each with the root that needs it. It exits 1 when anything is damaged or
missing. It takes as long as reading the whole store.

It asks the running daemon; with no daemon running it opens the repo itself.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRepoVerify(cmd.Context(), g)
		},
	})
	return cmd
}

// runRepoVerify verifies the repo, prints the report and fails when
// anything is damaged or missing.
func runRepoVerify(ctx context.Context, g *globals) error {
	rep, err := g.verify(ctx)
	if err != nil {
		return err
	}
	if g.json {
		if err := g.printJSON(rep); err != nil {
			return err
		}
	} else {
		printVerify(g.stdout, rep)
	}
	return verifyFailure(rep)
}

// verify asks the daemon to verify the repo, or, with no daemon running
// (no api.addr, or one left by a daemon that is gone), opens it itself.
func (g *globals) verify(ctx context.Context) (api.VerifyReport, error) {
	dir, err := g.repoDir()
	if err != nil {
		return api.VerifyReport{}, err
	}
	if _, err := os.Stat(filepath.Join(dir, repo.APIAddrFile)); !errors.Is(err, fs.ErrNotExist) {
		c, err := g.client()
		if err != nil {
			return api.VerifyReport{}, err
		}
		rep, err := c.RepoVerify(ctx)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return rep, err
		}
	}
	r, err := repo.Open(dir)
	if err != nil {
		return api.VerifyReport{}, err
	}
	quietDependencies(g.logLevel) // Badger logs each unreadable block, key in bytes
	log, err := g.logger()
	if err != nil {
		return api.VerifyReport{}, err
	}
	bar := g.newProgress(-1, "verifying")
	progress := func(_ int, n int64) {
		if bar != nil {
			bar.Set64(n)
		}
	}
	rep, err := daemon.VerifyRepo(ctx, r, progress, log)
	finish(bar)
	return rep, err
}

func printVerify(w io.Writer, rep api.VerifyReport) {
	fmt.Fprintf(w, "blocks checked  %d (%s)\nroots           %d (pins and the account's head), needing %d blocks\n",
		rep.Blocks, humanize.IBytes(uint64(rep.Bytes)), rep.Roots, rep.Reachable)
	for _, l := range []struct {
		what string
		ps   []api.VerifyProblem
	}{{"damaged       ", rep.Damaged}, {"missing       ", rep.Missing}} {
		if len(l.ps) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s  %d\n", l.what, len(l.ps))
		for _, p := range l.ps {
			root := "nothing needs it"
			if p.Root != "" {
				root = "needed by " + p.Root
			}
			fmt.Fprintf(w, "  %s  %s (%s)\n", p.CID, escape(p.Reason), root)
		}
	}
	if rep.OK {
		fmt.Fprintln(w, "nothing damaged or missing")
	}
}

// verifyFailure says what to do about what verify found, or is nil.
func verifyFailure(rep api.VerifyReport) error {
	if rep.OK {
		return nil
	}
	var needed, stray int
	for _, p := range rep.Damaged {
		if p.Root != "" {
			needed++
		} else {
			stray++
		}
	}
	var hints []string
	if needed > 0 {
		hints = append(hints, "restore the repo from a backup (a damaged block is not fetched again while the store holds it)")
	}
	if len(rep.Missing) > 0 {
		hints = append(hints, "fetch missing blocks again with 'peer ipfs pin add ROOT' (the root that needs them) while a device that holds them is on the LAN")
	}
	if stray > 0 && len(rep.Missing) == 0 {
		// GC stops at a missing block, so this helps only once none is.
		hints = append(hints, "'peer repo gc' removes damaged blocks nothing needs")
	}
	return fmt.Errorf("%d damaged and %d missing blocks: %s", len(rep.Damaged), len(rep.Missing), strings.Join(hints, "; "))
}
