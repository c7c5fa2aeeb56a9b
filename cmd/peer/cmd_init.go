package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/repo"
)

type initResult struct {
	Repo    string `json:"repo"`
	Device  string `json:"device"`
	Profile string `json:"profile"`
}

func newInitCommand(g *globals) *cobra.Command {
	var profile string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a repo: config, node identity, API token",
		Long: `Create a repo in $PEER_PATH (or --repo, default ~/.peer) with a commented
config.toml, a new node identity and an API token. Needs no terminal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := g.repoDir()
			if err != nil {
				return err
			}
			r, err := initRepo(dir, profile)
			if err != nil {
				return err
			}
			res := initResult{Repo: dir, Device: r.PeerID().String(), Profile: r.Config.Profile}
			if g.json {
				return g.printJSON(res)
			}
			fmt.Fprintf(g.stdout, "initialised %s (profile %s)\npeer ID %s\n", dir, res.Profile, res.Device)
			return nil
		},
	}
	cmd.Flags().StringVar(&profile, "profile", "default", `storage and network profile: "default" or "pi" (small boards)`)
	return cmd
}

// initRepo creates a repo in dir with the defaults of the named profile.
func initRepo(dir, profile string) (*repo.Repo, error) {
	p, err := blockstore.ParseProfile(profile)
	if err != nil {
		return nil, err
	}
	return repo.Init(dir, repo.DefaultConfigFor(p))
}
