package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"

	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"

	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/daemon"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

func newDaemonCommand(g *globals) *cobra.Command {
	var profile string
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the node in the foreground until interrupted",
		Long: `Run the node until SIGINT or SIGTERM: the block store, LAN discovery
(mDNS, DHT), Bitswap, and the HTTP API on loopback that the other commands
use. The first run creates the repo with default settings (see 'peer init').`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := g.logger()
			if err != nil {
				return err
			}
			quietDependencies(g.logLevel)
			dir, err := g.repoDir()
			if err != nil {
				return err
			}
			r, err := repo.Open(dir)
			if errors.Is(err, repo.ErrNoRepo) {
				var acct *vault.Account
				if r, acct, err = initRepo(dir, profile, nil); err == nil {
					// A daemon's output often ends up in logs: the phrase
					// is shown only on request.
					fmt.Fprintf(g.stderr, "initialised new repo in %s with a new account %s\nwrite down its recovery phrase: 'peer account phrase'\n", escape(dir), acct.ID())
				}
			}
			if err != nil {
				return err
			}
			mem := defaultMemory
			if r.Config.Profile == string(blockstore.ProfilePi) {
				// Collect garbage sooner on small boards: the heap stays
				// near its live size instead of doubling between cycles.
				debug.SetGCPercent(50)
				mem = piMemory
			}
			memCtx, stopMem := context.WithCancel(cmd.Context())
			defer stopMem()
			go governMemory(memCtx, mem)
			d, err := daemon.Start(cmd.Context(), r, log)
			if err != nil {
				return err
			}
			if p := os.Getenv("PEER_CPUPROFILE"); p != "" {
				// For benchmarks: a CPU profile of the daemon's whole run.
				f, err := os.Create(p)
				if err != nil {
					return fmt.Errorf("failed to create PEER_CPUPROFILE: %w", err)
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("failed to start CPU profile: %w", err)
				}
				defer f.Close()
				defer pprof.StopCPUProfile()
			}
			fmt.Fprintf(g.stdout, "peer daemon ready\npeer ID %s\nAPI %s\n", r.PeerID(), d.APIURL())
			select {
			case <-cmd.Context().Done():
			case err = <-d.Done():
				err = fmt.Errorf("API server stopped: %w", err)
			}
			fmt.Fprintln(g.stderr, "shutting down")
			if p := os.Getenv("PEER_HEAPPROFILE"); p != "" {
				// For benchmarks: what the heap holds at the end of the run.
				if herr := writeHeapProfile(p); herr != nil {
					err = errors.Join(err, herr)
				}
			}
			return errors.Join(err, d.Close())
		},
	}
	cmd.Flags().StringVar(&profile, "profile", "default", `profile for a repo created on first run: "default" or "pi"`)
	return cmd
}

// quietDependencies sets the level of the libp2p and boxo loggers (go-log),
// unless GOLOG_LOG_LEVEL says otherwise: silent but for fatal errors by
// default, warnings with --log-level debug. Their errors that matter reach
// the user through peer's own results and log.
func quietDependencies(level string) {
	if os.Getenv("GOLOG_LOG_LEVEL") != "" {
		return
	}
	// go-libp2p logs through slog handlers of its own (fx's start-up
	// failures among them, which repeat the error the daemon returns): off
	// by default, through go-log with --log-level debug.
	if level == "debug" {
		gologshim.SetDefaultHandler(golog.SlogHandler())
		golog.SetAllLoggers(golog.LevelWarn)
		return
	}
	gologshim.SetDefaultHandler(slog.DiscardHandler)
	golog.SetAllLoggers(golog.LevelFatal)
}

// writeHeapProfile writes the live heap's profile to p.
func writeHeapProfile(p string) error {
	runtime.GC()
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("failed to create PEER_HEAPPROFILE: %w", err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		return fmt.Errorf("failed to write PEER_HEAPPROFILE: %w", err)
	}
	return nil
}
