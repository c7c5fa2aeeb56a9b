package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/peer-cloud/peer/internal/passwd"
	"github.com/peer-cloud/peer/repo"
)

func newPasswdCommand(g *globals) *cobra.Command {
	var remove bool
	cmd := &cobra.Command{
		Use:   "passwd",
		Short: "Set the password WebDAV (/dav/) takes besides the API token",
		Long: `Set the password that WebDAV at /dav/ takes, with any user name, besides
the API token: asked twice on a terminal, else one line read from stdin.
It is stored in the repo as an argon2id hash (file passwd); a running
daemon takes the new one at the next request. --remove forgets it, so
only the API token logs in.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := g.repoDir()
			if err != nil {
				return err
			}
			if _, err := repo.ReadToken(dir); err != nil {
				return err // not a repo
			}
			if remove {
				if err := passwd.Set(dir, ""); err != nil {
					return err
				}
				return g.passwdDone(map[string]any{"password": false}, "password removed: WebDAV takes only the API token now")
			}
			pw, err := g.readPassword()
			if err != nil {
				return err
			}
			if err := passwd.Set(dir, pw); err != nil {
				return err
			}
			return g.passwdDone(map[string]any{"password": true}, "password set: log in to WebDAV with any user name and this password")
		},
	}
	cmd.Flags().BoolVar(&remove, "remove", false, "remove the password (only the API token logs in)")
	return cmd
}

func (g *globals) passwdDone(v any, msg string) error {
	if g.json {
		return g.printJSON(v)
	}
	fmt.Fprintln(g.stdout, msg)
	return nil
}

// readPassword asks for a new password twice without echo on a
// terminal, or reads one line from stdin.
func (g *globals) readPassword() (string, error) {
	return g.readSecret(fmt.Sprintf("New password (%d characters or more): ", passwd.MinLength), true)
}

// readSecret reads a password typed without echo after prompt on a
// terminal (twice, to compare, with confirm), or one line of stdin.
func (g *globals) readSecret(prompt string, confirm bool) (string, error) {
	if f, ok := g.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		ask := func(prompt string) (string, error) {
			fmt.Fprint(g.stderr, prompt)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(g.stderr)
			if err != nil {
				return "", fmt.Errorf("failed to read the password: %w", err)
			}
			return string(b), nil
		}
		pw, err := ask(prompt)
		if err != nil || !confirm {
			return pw, err
		}
		again, err := ask("Again: ")
		if err != nil {
			return "", err
		}
		if pw != again {
			return "", errors.New("the two passwords differ: run the command again")
		}
		return pw, nil
	}
	line, err := bufio.NewReader(g.stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("failed to read the password from stdin: %w", err)
		}
		return "", errors.New("no password on stdin: type it on a terminal, or pipe one line in")
	}
	return line, nil
}
