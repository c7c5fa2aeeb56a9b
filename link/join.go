package link

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/peer-cloud/peer/vault"
)

// Refusals a joiner gets, one per code the offerer sends.
var (
	ErrWrongSecret = errors.New("the device refused this link's secret (a mistyped link, or a link of another device); the link is dead now: make a new one with 'peer link'")
	ErrUsed        = errors.New("this link was used already (a link works once): make a new one with 'peer link'")
	ErrExpired     = errors.New("this link has expired: make a new one with 'peer link' (--expires gives it longer)")
	ErrBurned      = errors.New("this link was cut off: a device tried it with a wrong secret (or gave up halfway) first: make a new one with 'peer link'")
	ErrNoOffer     = errors.New("the device has no link open (cancelled, replaced, or the daemon restarted): make a new one with 'peer link'")
	ErrBusy        = errors.New("another device is linking to that device right now: wait for it to finish, then make a new link")
	ErrDeclined    = errors.New("the link was declined on the other device (or nobody confirmed it in time)")
)

// refusals maps codes to errors.
var refusals = map[string]error{
	codeWrongSecret: ErrWrongSecret,
	codeUsed:        ErrUsed,
	codeExpired:     ErrExpired,
	codeBurned:      ErrBurned,
	codeNoOffer:     ErrNoOffer,
	codeBusy:        ErrBusy,
	codeDeclined:    ErrDeclined,
}

// clockSkew is how far past its expiry, by this device's clock, a link
// is still tried: the offerer's clock decides.
const clockSkew = 2 * time.Minute

// Welcome is what joining gave.
type Welcome struct {
	// Account is the account, from its root secret.
	Account *vault.Account
	// Cert is the account's certificate for this device's key.
	Cert []byte
	// Offerer is the running device, with the address that reached it.
	Offerer peer.AddrInfo
}

// JoinConfig says how to join.
type JoinConfig struct {
	// Name is this device's name, shown on the other device (1 to
	// MaxNameBytes bytes, no control characters).
	Name string
	// Fingerprint is called with the code both screens show, once both
	// sides proved the secret, while the other device's user confirms.
	Fingerprint func(code string)
	// Store keeps what joining gave (it writes the repo). Its error is
	// sent to the other device, which then does not count this device
	// as joined, and Join returns it.
	Store func(Welcome) error
	// Step bounds each read and Confirm the wait for the other device's
	// user; zero means the defaults (10 s, 2 min).
	Step    time.Duration
	Confirm time.Duration
}

// Join joins the account of the device that made u, from h (whose
// identity becomes the new device's). Nothing is stored unless the
// device welcomed this one; then cfg.Store is called.
func Join(ctx context.Context, h host.Host, u URI, cfg JoinConfig) (Welcome, error) {
	if cfg.Step <= 0 {
		cfg.Step = defaultStep
	}
	if cfg.Confirm <= 0 {
		cfg.Confirm = defaultConfirm
	}
	if !validName(cfg.Name) {
		return Welcome{}, fmt.Errorf("failed to link: the device name %q must be 1 to %d bytes without control characters", cfg.Name, MaxNameBytes)
	}
	if time.Now().After(u.Expires.Add(clockSkew)) {
		return Welcome{}, fmt.Errorf("failed to link: %w (it ended %s)", ErrExpired, u.Expires.Format(time.DateTime))
	}
	if u.Peer == h.ID() {
		return Welcome{}, errors.New("failed to link: the link is this device's own")
	}
	h.Peerstore().AddAddrs(u.Peer, u.Addrs, peerstore.TempAddrTTL)
	dctx, cancel := context.WithTimeout(ctx, cfg.Step)
	err := h.Connect(dctx, peer.AddrInfo{ID: u.Peer, Addrs: u.Addrs})
	cancel()
	if err != nil {
		return Welcome{}, fmt.Errorf("failed to reach the device of the link at %v (is its daemon running, and this device on the same LAN?): %w", u.Addrs, err)
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.Step)
	s, err := h.NewStream(sctx, u.Peer, ProtocolID)
	cancel()
	if err != nil {
		return Welcome{}, fmt.Errorf("failed to open a link session (is the other device's peer up to date?): %w", err)
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	w, err := join(s, h.ID(), u, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return Welcome{}, fmt.Errorf("failed to link: %w", ctx.Err())
		}
		return Welcome{}, fmt.Errorf("failed to link: %w", err)
	}
	return w, nil
}

// join runs the joiner's side of the protocol on s.
func join(s network.Stream, me peer.ID, u URI, cfg JoinConfig) (Welcome, error) {
	step := func(d time.Duration) { s.SetDeadline(time.Now().Add(d)) }
	read := func(want string) (*message, error) {
		m, err := readMessage(s)
		if err != nil {
			return nil, err
		}
		if m.Type == typeRefuse {
			if e, ok := refusals[m.Code]; ok {
				return nil, e
			}
			return nil, fmt.Errorf("the other device refused: %s (%s)", m.Code, m.Reason)
		}
		if m.Type != want {
			return nil, fmt.Errorf("%w: got %q, want %q", errMessage, m.Type, want)
		}
		return m, nil
	}
	step(cfg.Step)
	nonceB, err := randomNonce()
	if err != nil {
		return Welcome{}, err
	}
	if err := writeMessage(s, &message{Type: typeHello, Nonce: nonceB, Name: cfg.Name}); err != nil {
		return Welcome{}, err
	}
	ch, err := read(typeChallenge)
	if err != nil {
		return Welcome{}, err
	}
	ss := newSession(u.Secret, u.Peer, me, ch.Nonce, nonceB, cfg.Name)
	if err := writeMessage(s, &message{Type: typeProof, MAC: ss.mac(labelJoiner)}); err != nil {
		return Welcome{}, err
	}
	acc, err := read(typeAccept)
	if err != nil {
		return Welcome{}, err
	}
	if !ss.check(labelOfferer, acc.MAC) {
		return Welcome{}, errors.New("the other device did not prove the link's secret: stop, and make a new link")
	}
	if cfg.Fingerprint != nil {
		cfg.Fingerprint(ss.fingerprint())
	}
	step(cfg.Confirm + cfg.Step)
	wm, err := read(typeWelcome)
	if err != nil {
		return Welcome{}, err
	}
	step(cfg.Step)
	w, err := openWelcome(ss, wm.Sealed, me)
	if err != nil {
		writeMessage(s, &message{Type: typeRefuse, Code: codeFailed, Reason: trimReason(err.Error())})
		return Welcome{}, err
	}
	w.Offerer = peer.AddrInfo{ID: u.Peer, Addrs: u.Addrs}
	if ra := s.Conn().RemoteMultiaddr(); ra != nil {
		w.Offerer.Addrs = append([]ma.Multiaddr{ra}, u.Addrs...)
	}
	if cfg.Store != nil {
		if err := cfg.Store(w); err != nil {
			step(cfg.Step)
			writeMessage(s, &message{Type: typeRefuse, Code: codeFailed, Reason: trimReason(err.Error())})
			return Welcome{}, err
		}
	}
	if err := writeMessage(s, &message{Type: typeDone}); err != nil {
		return Welcome{}, fmt.Errorf("stored the account, but failed to tell the other device (it may not list this device until this one publishes): %w", err)
	}
	// Wait for the offerer to close, so that done is read before the
	// stream goes.
	s.CloseWrite()
	var b [1]byte
	s.Read(b[:])
	return w, nil
}

// openWelcome opens a welcome and checks that it is a root secret and a
// certificate of that account for this device.
func openWelcome(ss *session, sealed []byte, me peer.ID) (Welcome, error) {
	plain, err := ss.open(sealed)
	if err != nil {
		return Welcome{}, err
	}
	var body welcomeBody
	if err := strictUnmarshal(plain, &body); err != nil {
		return Welcome{}, fmt.Errorf("failed to read the welcome: %w", err)
	}
	acct, err := vault.AccountFromSecret(body.Secret)
	if err != nil {
		return Welcome{}, fmt.Errorf("failed to read the welcome: %w", err)
	}
	for _, we := range body.Epochs {
		if we.N == 0 || len(we.Secret) != vault.SecretSize {
			return Welcome{}, errors.New("failed to read the welcome: a key epoch 0, or a secret not of 32 bytes")
		}
		e := vault.Epoch{N: we.N}
		copy(e.Secret[:], we.Secret)
		if _, err := acct.AddEpochs(e); err != nil {
			return Welcome{}, fmt.Errorf("failed to read the welcome: %w", err)
		}
	}
	c, err := vault.ParseDeviceCert(body.Cert)
	if err != nil {
		return Welcome{}, fmt.Errorf("failed to read the welcome: %w", err)
	}
	if c.Account != acct.PeerID() || c.Device != me {
		return Welcome{}, errors.New("failed to read the welcome: its certificate is not the account's for this device")
	}
	return Welcome{Account: acct, Cert: body.Cert}, nil
}

// trimReason bounds a refusal's text.
func trimReason(s string) string {
	if len(s) > maxReason {
		s = s[:maxReason]
	}
	return strings.ToValidUTF8(s, "")
}
