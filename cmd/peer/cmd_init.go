package main

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

type initResult struct {
	Repo     string `json:"repo"`
	Account  string `json:"account"`
	Device   string `json:"device"`
	Profile  string `json:"profile"`
	Recovery string `json:"recovery,omitempty"`
}

func newInitCommand(g *globals) *cobra.Command {
	var profile string
	var recover bool
	var linkURI string
	var donorOnly bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a repo and an account (or recover one from its phrase)",
		Long: `Create a repo in $PEER_PATH (or --repo, default ~/.peer) with a commented
config.toml, this device's identity, an API token and an account.

The account's recovery phrase (24 words) is shown once: write it down. It
is the only way to get the account back on a new device or after a disk
loss. 'peer account phrase' shows it again on this device.

With --recover, the account comes from its phrase instead, read from the
terminal, or from stdin when that is not a terminal. Needs no terminal.
If a device was ever removed from the account, its keys were rotated: give
the newest recovery key ('peer account phrase' shows it: a number and 24
words) after the phrase, on the terminal when asked, or on stdin after the
24 words. Without it, what was written after the first removal stays
unreadable here.

With --link LINK (from 'peer link' on a running device of the account),
this device joins that account over the LAN instead: see 'peer link
--help'. Nothing is written unless the other device welcomed this one;
--json then prints the same fields, without the phrase.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := g.repoDir()
			if err != nil {
				return err
			}
			if donorOnly {
				return runInitDonor(g, dir, profile, recover || linkURI != "")
			}
			if linkURI != "" {
				if recover {
					return errLinkAndRecover
				}
				return runInitLink(cmd.Context(), g, dir, profile, linkURI)
			}
			var acct *vault.Account
			var epoch *vault.Epoch
			if recover {
				phrase, err := g.readPhrase()
				if err != nil {
					return err
				}
				// The phrase, then the newest recovery key, if any.
				words := strings.Fields(phrase)
				if len(words) > vault.PhraseWords {
					e, err := vault.ParseRecoveryKey(strings.Join(words[vault.PhraseWords:], " "))
					if err != nil {
						return err
					}
					epoch, phrase = &e, strings.Join(words[:vault.PhraseWords], " ")
				} else if key, err := g.readRecoveryKey(); err != nil {
					return err
				} else if key != "" {
					e, err := vault.ParseRecoveryKey(key)
					if err != nil {
						return err
					}
					epoch = &e
				}
				if acct, err = vault.AccountFromPhrase(phrase); err != nil {
					return err
				}
			}
			r, acct, err := initRepo(dir, profile, acct)
			if err != nil {
				return err
			}
			if epoch != nil {
				if err := r.WriteEpochs(vault.MarshalEpochs([]vault.Epoch{*epoch})); err != nil {
					return err
				}
			}
			res := initResult{Repo: dir, Account: acct.ID(), Device: r.PeerID().String(), Profile: r.Config.Profile, Recovery: acct.Phrase()}
			if g.json {
				return g.printJSON(res)
			}
			fmt.Fprintf(g.stdout, "initialised %s (profile %s)\naccount %s\ndevice  %s\n", escape(dir), res.Profile, res.Account, res.Device)
			if !recover {
				fmt.Fprintf(g.stdout, "\nRecovery phrase (write it down now; it is the only way to restore this account):\n\n  %s\n\n", res.Recovery)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&profile, "profile", "default", `storage and network profile: "default" or "pi" (small boards)`)
	cmd.Flags().BoolVar(&recover, "recover", false, "restore an account from its recovery phrase (stdin, or asked on the terminal)")
	cmd.Flags().StringVar(&linkURI, "link", "", "join the account of a running device by the link 'peer link' shows there")
	cmd.Flags().BoolVar(&donorOnly, "donor", false, "make a donor with no account of its own, that only serves others' accounts (see 'peer donate --help')")
	return cmd
}

// readPhrase reads a recovery phrase: asked without echo on a terminal,
// else everything on stdin.
func (g *globals) readPhrase() (string, error) {
	if f, ok := g.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(g.stderr, "Recovery phrase (24 words): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.stderr)
		if err != nil {
			return "", fmt.Errorf("failed to read the phrase: %w", err)
		}
		return string(b), nil
	}
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(g.stdin), 4096))
	if err != nil {
		return "", fmt.Errorf("failed to read the phrase from stdin: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", errors.New("no recovery phrase on stdin: pipe the 24 words in, e.g. 'peer init --recover < phrase.txt'")
	}
	return string(b), nil
}

// readRecoveryKey asks for the newest recovery key on a terminal; it is
// "" when there is no terminal (stdin then holds it after the phrase) or
// the user has none.
func (g *globals) readRecoveryKey() (string, error) {
	f, ok := g.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", nil
	}
	fmt.Fprint(g.stderr, "Recovery key (its number and 24 words; press Enter if no device was ever removed): ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(g.stderr)
	if err != nil {
		return "", fmt.Errorf("failed to read the recovery key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// initRepo creates a repo in dir with the defaults of the named profile and
// acct (a new account when nil).
func initRepo(dir, profile string, acct *vault.Account) (*repo.Repo, *vault.Account, error) {
	p, err := blockstore.ParseProfile(profile)
	if err != nil {
		return nil, nil, err
	}
	if acct == nil {
		if acct, err = vault.NewAccount(rand.Reader); err != nil {
			return nil, nil, err
		}
	}
	r, err := repo.Init(dir, repo.DefaultConfigFor(p), acct.Secret())
	return r, acct, err
}
