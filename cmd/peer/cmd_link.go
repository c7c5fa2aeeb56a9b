package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/link"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/vault"
)

func newLinkCommand(g *globals) *cobra.Command {
	var yes bool
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "link [--yes] [--expires 5m]",
		Short: "Let a new device join this account: show a link and its QR code, wait for the device",
		Long: `Make a one-time link for a new device to join this device's account, and
wait for it. The link is printed alone on the first line of stdout, then
shown as a QR code (with --json, only the offer's final state is printed,
as JSON, when it ends). On the new device, run

  peer init --link LINK

(scanned, pasted or typed: case does not matter). It dials this device
over the LAN, proves the link's secret, and both screens show the same
six-digit fingerprint: answer y here if they match. This device then sends
the account (its root secret, over the encrypted connection) and a
certificate for the new device's own key. The link itself never holds the
account's secret.

A link works once, expires (--expires, default 5m), and dies after one
wrong try: make a new one then. --yes skips the question (for headless
boards; anyone who can read the link in time can then join). Exits 0 once
the new device has joined; 'peer devices' lists it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return runLink(cmd.Context(), g, c, expires, yes)
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "welcome the device that proves the secret without asking")
	cmd.Flags().DurationVar(&expires, "expires", link.DefaultTTL, "how long the link stays usable (at most 1h)")
	return cmd
}

// runLink makes an offer on the daemon and follows it to its end.
func runLink(ctx context.Context, g *globals, c *api.Client, expires time.Duration, yes bool) error {
	of, err := c.LinkOffer(ctx, expires, yes)
	if err != nil {
		return err
	}
	// Ctrl-C or a failure here cancels the offer; a cancelled offer is
	// never used.
	final := false
	defer func() {
		if !final {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c.LinkCancel(cctx, of.ID)
			cancel()
		}
	}()
	if !g.json {
		fmt.Fprintln(g.stdout, of.URI)
		if qr, err := link.QR(of.URI); err == nil {
			fmt.Fprint(g.stdout, qr)
		}
		fmt.Fprintf(g.stderr, "On the new device, run:\n\n  peer init --link %s\n\n(or scan the code). The link works once, until %s. Waiting for a device...\n",
			of.URI, of.Expires.Local().Format(time.TimeOnly))
	}
	var answered uint64
	for {
		if of.Final() {
			final = true
			break
		}
		if of.State == "confirm" && answered == 0 {
			answered = of.Version
			fmt.Fprintf(g.stderr, "Device %q (%s) proved the link's secret.\nFingerprint: %s\n", escape(of.DeviceName), of.Device, of.Fingerprint)
			if !yes {
				ok, err := g.askYes(ctx, "Does the new device show the same fingerprint? [y/N] ")
				if err != nil {
					return err
				}
				if err := c.LinkConfirm(ctx, of.ID, ok); err != nil {
					return err
				}
			}
		}
		if of, err = c.LinkWait(ctx, of.ID, of.Version); err != nil {
			return err
		}
	}
	if g.json {
		if err := g.printJSON(of); err != nil {
			return err
		}
	}
	if of.State != "joined" {
		return fmt.Errorf("no device joined: the link %s: %s", of.State, of.Error)
	}
	if !g.json {
		fmt.Fprintf(g.stderr, "%q (%s) joined the account. 'peer devices' lists it.\n", escape(of.DeviceName), of.Device)
	}
	return nil
}

// askYes asks a yes/no question on stderr and reads the answer from
// stdin (a line; "y" or "yes" is yes).
func (g *globals) askYes(ctx context.Context, q string) (bool, error) {
	fmt.Fprint(g.stderr, q)
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(g.stdin).ReadString('\n')
		line <- s
	}()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case s := <-line:
		s = strings.ToLower(strings.TrimSpace(s))
		return s == "y" || s == "yes", nil
	}
}

// runInitLink makes a repo in dir for a device joining by the link uri:
// its identity is made first and stays in memory until the other device
// welcomed it; a refused link leaves nothing behind.
func runInitLink(ctx context.Context, g *globals, dir, profile, uri string) error {
	u, err := link.Parse(uri)
	if err != nil {
		return err
	}
	p, err := blockstore.ParseProfile(profile)
	if err != nil {
		return err
	}
	if err := repo.CheckInit(dir); err != nil {
		return err
	}
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return fmt.Errorf("failed to generate identity: %w", err)
	}
	// Dial only: the new device listens on nothing until its daemon runs.
	h, err := libp2p.New(libp2p.Identity(sk), libp2p.NoListenAddrs, libp2p.DisableRelay())
	if err != nil {
		return fmt.Errorf("failed to start libp2p: %w", err)
	}
	defer h.Close()
	var r *repo.Repo
	w, err := link.Join(ctx, h, u, link.JoinConfig{
		Name: deviceName(),
		Fingerprint: func(code string) {
			fmt.Fprintf(g.stderr, "Fingerprint: %s\nCheck that the other device shows the same, and confirm there.\n", code)
		},
		Store: func(w link.Welcome) error {
			cfg := repo.DefaultConfigFor(p)
			// The device that welcomed this one is kept as a peer, for LANs
			// without mDNS.
			if addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: w.Offerer.ID, Addrs: w.Offerer.Addrs[:1]}); err == nil {
				cfg.Network.Peers = []string{addrs[0].String()}
			}
			var err error
			if r, err = repo.InitIdentity(dir, cfg, sk, w.Account.Secret()); err != nil {
				return err
			}
			if es := w.Account.Epochs(); len(es) > 0 {
				if err := r.WriteEpochs(vault.MarshalEpochs(es)); err != nil {
					return err
				}
			}
			return r.WriteCert(w.Cert)
		},
	})
	if err != nil {
		return err
	}
	res := initResult{Repo: dir, Account: w.Account.ID(), Device: r.PeerID().String(), Profile: r.Config.Profile}
	if g.json {
		return g.printJSON(res)
	}
	fmt.Fprintf(g.stdout, "initialised %s (profile %s)\naccount %s\ndevice  %s\nlinked by %s; start this device with 'peer daemon'\n",
		escape(dir), res.Profile, res.Account, res.Device, w.Offerer.ID)
	return nil
}

// deviceName is the name a new device gives itself: the host's name,
// cut to what a link carries.
func deviceName() string {
	name, _ := os.Hostname()
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	for len(name) > link.MaxNameBytes {
		name = name[:len(name)-1]
	}
	name = strings.ToValidUTF8(name, "")
	if name == "" {
		return "device"
	}
	return name
}

var errLinkAndRecover = errors.New("--link and --recover exclude each other: a device joins by a link or by the recovery phrase")
