package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/repo"
)

// globals are the flags every command has.
type globals struct {
	repo     string
	json     bool
	logLevel string
	stdout   io.Writer
	stderr   io.Writer
	stdin    io.Reader
}

// newRootCommand returns the peer command; g holds its output and input
// streams, and the global flags once parsed.
func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "peer",
		Short: "A personal cloud on IPFS parts, for LANs without internet",
		Long: `peer keeps your files on your own devices, encrypted, and moves them over
the LAN. 'peer add' puts files into your vault; 'peer ls', 'get', 'history'
and 'restore' read them back, any version. 'peer share' makes a link to a
file or folder, or shares a file with chosen accounts ('peer shared' lists
what others shared with you); 'peer publish' puts a file or folder,
unencrypted, into your public index; 'peer replicas' shows who holds your
files.

Start the node with 'peer daemon' (the first run creates the repo in
$PEER_PATH, default ~/.peer); the other commands talk to the running daemon.

A failure exits non-zero with one line on stderr. Names are shown with
control characters, bidi overrides and invalid UTF-8 escaped (\x1b,
\u202e); --json prints them exactly.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.repo, "repo", "", "repo folder (default $PEER_PATH, or ~/.peer)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print results as JSON")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	root.AddCommand(
		newInitCommand(g),
		newDaemonCommand(g),
		newAccountCommand(g),
		newAddCommand(g),
		newLsCommand(g),
		newCatCommand(g),
		newGetCommand(g),
		newMkdirCommand(g),
		newMvCommand(g),
		newRmCommand(g),
		newHistoryCommand(g),
		newRestoreCommand(g),
		newStatusCommand(g),
		newResolveCommand(g),
		newIDCommand(g),
		newPeersCommand(g),
		newIPFSCommand(g),
		newRepoCommand(g),
		newStatsCommand(g),
		newLinkCommand(g),
		newDevicesCommand(g),
		newSyncCommand(g),
		newPasswdCommand(g),
		newDonateCommand(g),
		newReplicasCommand(g),
		newShareCommand(g),
		newUnshareCommand(g),
		newSharesCommand(g),
		newSharedCommand(g),
		newContactsCommand(g),
		newPublishCommand(g),
		newUnpublishCommand(g),
	)
	return root
}

// repoDir returns the repo folder the flags name.
func (g *globals) repoDir() (string, error) {
	if g.repo != "" {
		return g.repo, nil
	}
	return repo.DefaultDir()
}

// client returns an API client for the daemon of the repo.
func (g *globals) client() (*api.Client, error) {
	dir, err := g.repoDir()
	if err != nil {
		return nil, err
	}
	token, err := repo.ReadToken(dir)
	if err != nil {
		return nil, err
	}
	base, err := repo.ReadAPIAddr(dir)
	if err != nil {
		return nil, err
	}
	return &api.Client{Base: base, Token: token}, nil
}

func (g *globals) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q: use debug, info, warn or error", g.logLevel)
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// printJSON writes v as indented JSON to stdout.
func (g *globals) printJSON(v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
