package main

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/internal/passwd"
	"github.com/peer-cloud/peer/share"
)

func newShareCommand(g *globals) *cobra.Command {
	var follow, password bool
	var with []string
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "share PATH [--follow [--expires DUR]] [--password] | PATH --with ACCOUNT...",
		Short: "Make a link that opens a vault file or folder, from any account",
		Long: `Make a link to the file or folder at PATH and print it alone on the last
line. Anyone holding the link can read it with 'peer cat LINK', 'peer ls
LINK [PATH]' or 'peer get LINK [PATH]' on any node, of any account, that
reaches the blocks (this account's devices, or a donor that mirrors it).
The link's key is in the part after '#', which a web browser never sends.

Without --follow the link opens the version at PATH now, and only it: it
cannot be taken back, since whoever holds it may have saved the file. A
link to a folder opens a copy of the folder's listing made for the link
(the files in it are not copied): 'peer unshare LINK' stops this account
listing that copy, so its devices no longer keep it, but whoever read it
keeps what they read.

With --follow it opens the newest version at PATH for as long as the share
stands. 'peer unshare' ends it: the link then sees nothing written after,
but what it already opened stays readable to whoever kept it. --expires
ends it after a time; the account's devices stop giving it new versions
then (a device that is off cannot, and a reader that saw the key before
keeps that version).

--password wraps the link's key with a password (argon2id, 64 MiB), asked
twice on a terminal or read as one line from stdin; readers are asked for
it. Share the password apart from the link.

--with ACCOUNT (IDs or contact names, repeated or comma-separated) shares
the version at PATH now with those accounts instead: its key is sealed for
each (an envelope in this account's root) and sent to their inboxes at
once; one that is away gets it when a device of it comes back while one of
this account's is online. Recipients list it with 'peer shared'. Nothing
is re-encrypted; the recipients can read that version, and keep it. --with
shares files; give a folder's files, or a link to the folder.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			req := api.ShareRequest{Path: vaultPath(args[0]), Follow: follow, Expires: expires, With: with}
			if password {
				if req.Password, err = g.readPassword(); err != nil {
					return err
				}
				if len(req.Password) < passwd.MinLength {
					return fmt.Errorf("the password is shorter than %d characters: choose a longer one", passwd.MinLength)
				}
			}
			s, err := c.Share(cmd.Context(), req)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(s)
			}
			switch {
			case len(s.With) > 0:
				fmt.Fprintf(g.stdout, "shared %s with %s\n", escape(s.Path), strings.Join(s.With, ", "))
				return nil
			case s.Follows && s.Expires != nil:
				fmt.Fprintf(g.stderr, "this link follows %s until %s, or until 'peer unshare %s'\n", escape(s.Path), s.Expires.Local().Format(time.DateTime), s.ID)
			case s.Follows:
				fmt.Fprintf(g.stderr, "this link follows %s until 'peer unshare %s'\n", escape(s.Path), s.ID)
			case s.ID != "":
				fmt.Fprintf(g.stderr, "this link opens the folder %s as it is now; 'peer unshare %s' stops this account keeping it\n", escape(s.Path), s.ID)
			default:
				fmt.Fprintf(g.stderr, "this link opens the version of %s there now; it cannot be taken back\n", escape(s.Path))
			}
			fmt.Fprintln(g.stdout, s.Link)
			return nil
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "open the newest version at PATH while the share stands")
	cmd.Flags().DurationVar(&expires, "expires", 0, "with --follow: end the share after this long (e.g. 72h)")
	cmd.Flags().BoolVar(&password, "password", false, "wrap the link's key with a password")
	cmd.Flags().StringSliceVar(&with, "with", nil, "share with these accounts (IDs or contact names) instead of making a link")
	return cmd
}

func newSharedCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "shared",
		Short: "List what other accounts shared with this one",
		Long: `List the files other accounts shared with this one ('peer share --with'),
newest first: from whom, the name, size, when, and a link that 'peer cat'
and 'peer get' open. Shares from accounts that are not contacts are listed
apart, and are bounded: at most 10 an hour from one account and 100 in
all are kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			list, err := c.Shared(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(list)
			}
			for _, contacts := range []bool{true, false} {
				first := true
				for _, s := range list {
					if s.Contact != contacts {
						continue
					}
					if first && !contacts {
						fmt.Fprintln(g.stdout, "From accounts not in your contacts:")
					}
					first = false
					from := s.From
					if s.FromName != "" {
						from = s.FromName + " (" + s.From + ")"
					}
					fmt.Fprintf(g.stdout, "%s  %s  %s  from %s\n  %s\n", s.Shared.Local().Format(time.DateTime), escape(s.Name), humanize.IBytes(s.Size), escape(from), s.Link)
				}
			}
			return nil
		},
	}
}

func newContactsCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contacts",
		Short: "List, add and remove contacts (accounts you know by name)",
		Long: `List the account's contacts. Shares from contacts are listed before
others' and not bounded as strangers' are; 'peer share --with NAME' takes
a contact's name. Contacts added or removed on one device reach the
account's other devices (sealed in the account root).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			list, err := c.Contacts(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(list)
			}
			for _, k := range list {
				fmt.Fprintf(g.stdout, "%s  %s\n", k.Account, escape(k.Name))
			}
			return nil
		},
	}
	var name string
	add := &cobra.Command{
		Use:   "add ACCOUNT [--name NAME]",
		Short: "Add an account to the contacts (or rename it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			k, err := c.ContactAdd(cmd.Context(), args[0], name)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(k)
			}
			fmt.Fprintf(g.stdout, "added %s %s\n", k.Account, escape(k.Name))
			if !k.Reachable {
				fmt.Fprintln(g.stderr, "the account was not found on the LAN: sharing with it needs a device of it (or a donor serving it) reachable; add it again while it is")
			}
			return nil
		},
	}
	add.Flags().StringVar(&name, "name", "", "a name to know it by")
	rm := &cobra.Command{
		Use:   "rm ACCOUNT|NAME",
		Short: "Remove a contact",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			k, err := c.ContactRm(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(k)
			}
			fmt.Fprintf(g.stdout, "removed %s %s\n", k.Account, escape(k.Name))
			return nil
		},
	}
	cmd.AddCommand(add, rm)
	return cmd
}

func newUnshareCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "unshare LINK|ID|PATH",
		Short: "End shares: a link, a share ID, or all of a path",
		Long: `End a following share (made with 'peer share --follow'), or a link to a
folder as it was, named by its link, by its ID ('peer shares'), or every
one of a vault path. The account's devices stop giving a following link
new versions: it sees nothing written after this; they stop keeping a
folder link's copy. What a link already opened stays readable to whoever
kept it, and a link to one version of a file cannot be ended.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			what := args[0]
			if !share.IsLink(what) && !share.IsShareID(what) {
				what = vaultPath(what)
			}
			ended, err := c.Unshare(cmd.Context(), what)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(ended)
			}
			for _, s := range ended {
				fmt.Fprintf(g.stdout, "ended %s (%s)\n", s.ID, escape(s.Path))
			}
			return nil
		},
	}
}

func newSharesCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "shares",
		Short: "List this account's shares: following links and links to folders",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			list, err := c.Shares(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(list)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPATH\tMADE\tSTATE")
			for _, s := range list {
				state := "standing"
				if !s.Follows {
					state = "one version"
				}
				switch {
				case s.Ended != nil:
					state = "ended " + s.Ended.Local().Format(time.DateTime)
				case s.Expires != nil && time.Now().After(*s.Expires):
					state = "expired " + s.Expires.Local().Format(time.DateTime)
				case s.Expires != nil:
					state = "until " + s.Expires.Local().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, escape(s.Path), s.Made.Local().Format(time.DateTime), state)
			}
			return tw.Flush()
		},
	}
}

// linkRequest parses a link the user gave and, when it is locked, asks
// for its password (on a terminal, else one line of stdin).
func (g *globals) linkRequest(text, sub string) (api.LinkRequest, error) {
	l, err := share.Parse(text)
	if err != nil {
		return api.LinkRequest{}, err
	}
	req := api.LinkRequest{Link: strings.TrimSpace(text)}
	if sub != "" {
		req.Path = vaultPath(sub)
	}
	if !l.Locked() {
		return req, nil
	}
	if req.Password, err = g.readSecret("This link needs a password: ", false); err != nil {
		return req, fmt.Errorf("this link needs a password: %w", err)
	}
	return req, nil
}

// linkResponse asks the daemon for the file a link opens; its body is
// the bytes, its X-Peer-Name header the file's name.
func (g *globals) linkResponse(cmd *cobra.Command, text, sub string) (*http.Response, error) {
	c, req, err := g.linkClient(text, sub)
	if err != nil {
		return nil, err
	}
	return c.LinkCat(cmd.Context(), req)
}

// linkClient is the daemon's client and the request for a link (sub:
// a path inside the folder it opens).
func (g *globals) linkClient(text, sub string) (*api.Client, api.LinkRequest, error) {
	c, err := g.client()
	if err != nil {
		return nil, api.LinkRequest{}, err
	}
	req, err := g.linkRequest(text, sub)
	return c, req, err
}

// lsLink lists what a link opens: the file, or the folder at sub inside
// it.
func (g *globals) lsLink(cmd *cobra.Command, text, sub string, long bool) error {
	c, req, err := g.linkClient(text, sub)
	if err != nil {
		return err
	}
	es, err := c.LinkLs(cmd.Context(), req)
	if err != nil {
		return err
	}
	if g.json {
		return g.printJSON(es)
	}
	return printEntries(g, es, long)
}

// getLink saves what a link opens (at sub inside a folder) as out
// (default: its name, in the current folder).
func (g *globals) getLink(cmd *cobra.Command, text, sub, out string) error {
	c, req, err := g.linkClient(text, sub)
	if err != nil {
		return err
	}
	resp, err := c.LinkGet(cmd.Context(), req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == "" {
		out = filepath.Base(resp.Header.Get("X-Peer-Name"))
		if out == "" || out == "." || out == "/" || out == ".." {
			out = "shared"
		}
	}
	if err := g.saveDownload(resp, out); err != nil {
		return err
	}
	if g.json {
		return g.printJSON(map[string]string{"output": out})
	}
	fmt.Fprintf(g.stdout, "saved what the link opens to %s\n", escape(out))
	return nil
}

// getPublic saves the file p of account's public index as out (default:
// its name).
func (g *globals) getPublic(cmd *cobra.Command, account, p, out string) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	resp, err := c.PublicGet(cmd.Context(), account, p)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == "" {
		out = path.Base(p)
	}
	if err := g.saveDownload(resp, out); err != nil {
		return err
	}
	if g.json {
		return g.printJSON(map[string]string{"output": out})
	}
	fmt.Fprintf(g.stdout, "saved %s to %s\n", escape(p), escape(out))
	return nil
}

func newPublishCommand(g *globals) *cobra.Command {
	var as string
	var yes bool
	cmd := &cobra.Command{
		Use:   "publish PATH | ACCOUNT:/NAME [--as NAME] [--yes]",
		Short: "Put a file or folder, UNENCRYPTED, into this account's public index",
		Long: `Put the vault file or folder at PATH (a folder as it is now, with all it
holds: publish it again to update it) into this account's public index, as NAME (its
own name by default). The copy there is NOT encrypted: plain UnixFS that
anyone who reaches this node, or a node holding the blocks, can read and
keep, with any IPFS tool:

    peer ls ACCOUNT:/    peer cat ACCOUNT:/NAME    ipfs cat /ipns/ACCOUNT/public/NAME

On a terminal it asks first; elsewhere it needs --yes.

ACCOUNT:/NAME re-shares another account's published file: its blocks are
fetched and kept here and it is listed in this account's index, so it
stays available when its first publisher is gone. 'peer unpublish NAME'
takes a name out; what others fetched before stays theirs.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			req := api.PublishRequest{As: as}
			if acct, ap, ok := splitAccountPath(args[0]); ok {
				req.Account, req.Path = acct, ap
			} else {
				req.Path = vaultPath(args[0])
				if !yes {
					if err := g.confirm(fmt.Sprintf("This puts %s into your public index UNENCRYPTED: anyone can read and keep it. Publish? [y/N] ", escape(req.Path))); err != nil {
						return err
					}
				}
			}
			e, err := c.Publish(cmd.Context(), req)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(e)
			}
			fmt.Fprintf(g.stdout, "published %s (%s): any IPFS node reads it at %s\n", escape(e.Name), humanize.IBytes(e.Size), e.Path)
			return nil
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "the name in the public index")
	cmd.Flags().BoolVar(&yes, "yes", false, "publish without asking (it is unencrypted)")
	return cmd
}

// confirm asks a yes/no question on a terminal; elsewhere it refuses.
func (g *globals) confirm(question string) error {
	f, ok := g.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return errors.New("publishing makes the file readable by anyone, unencrypted: add --yes to do it")
	}
	fmt.Fprint(g.stderr, question)
	line, _ := bufio.NewReader(f).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return errors.New("not published")
	}
	return nil
}

func newUnpublishCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "unpublish NAME",
		Short: "Take a name out of this account's public index",
		Long: `Take NAME out of this account's public index. Nodes that fetched it before
keep what they fetched; re-shares by other accounts stay theirs.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.Unpublish(cmd.Context(), args[0]); err != nil {
				return err
			}
			if g.json {
				return g.printJSON(map[string]string{"name": args[0]})
			}
			fmt.Fprintf(g.stdout, "unpublished %s\n", escape(args[0]))
			return nil
		},
	}
}
