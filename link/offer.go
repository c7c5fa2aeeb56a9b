package link

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/peer-cloud/peer/vault"
)

// Defaults of an Offerer.
const (
	// DefaultTTL is how long an offer stays open when not told.
	DefaultTTL = 5 * time.Minute
	// MaxTTL bounds an offer's life.
	MaxTTL = time.Hour
	// defaultStep bounds each read of the protocol.
	defaultStep = 10 * time.Second
	// defaultConfirm is how long the running device's user has to
	// confirm; the joiner waits that long plus a step.
	defaultConfirm = 2 * time.Minute
	// storeWait is how long the offerer waits for the joiner to store
	// what it got (it writes a repo).
	storeWait = 30 * time.Second
)

// State is where an offer stands.
type State string

// States of an offer. StateJoined, StateFailed, StateExpired and
// StateCancelled are final.
const (
	StateWaiting   State = "waiting"   // open: no device has proved the secret yet
	StateConfirm   State = "confirm"   // a device proved it: confirm the fingerprint
	StateSending   State = "sending"   // confirmed: sending the account to it
	StateJoined    State = "joined"    // the device stored the account and its certificate
	StateFailed    State = "failed"    // see the status's error
	StateExpired   State = "expired"   // no device came in time
	StateCancelled State = "cancelled" // cancelled, or replaced by a newer offer
)

// Status is what an offer's maker sees of it.
type Status struct {
	ID      string
	URI     string
	Expires time.Time
	State   State
	// Fingerprint, Device and DeviceName: the device that proved the
	// secret, from StateConfirm on.
	Fingerprint string
	Device      peer.ID
	DeviceName  string
	// Err says why the offer failed.
	Err string
	// Version grows with every change; Wait waits for a greater one.
	Version uint64
}

// Final reports whether the offer can change no more.
func (s Status) Final() bool {
	switch s.State {
	case StateJoined, StateFailed, StateExpired, StateCancelled:
		return true
	}
	return false
}

// OffererConfig is what an Offerer needs of the account.
type OffererConfig struct {
	// Welcome returns the account's root secret and a certificate for
	// the device, made once the offer's maker confirmed.
	Welcome func(ctx context.Context, device peer.ID, name string) (secret, cert []byte, err error)
	// Epochs, when set, gives the account's key epochs after 0, which
	// the welcome carries too.
	Epochs func() []vault.Epoch
	// Joined is told the certificate once the device stored what it got.
	Joined func(ctx context.Context, cert []byte) error
	Log    *slog.Logger
	// Step bounds each read of the protocol and Confirm how long the
	// user has to confirm; zero means the defaults (10 s, 2 min).
	Step    time.Duration
	Confirm time.Duration
}

// Errors of the Offerer's methods.
var (
	// ErrUnknownOffer says no offer has that id (it was replaced).
	ErrUnknownOffer = errors.New("no such link offer (a newer 'peer link' replaced it?)")
	// ErrNotConfirming says the offer awaits no confirmation.
	ErrNotConfirming = errors.New("the link offer is not waiting for a confirmation")
)

// Offerer serves one link offer at a time on a host's ProtocolID.
type Offerer struct {
	host host.Host
	cfg  OffererConfig

	mu      sync.Mutex
	cur     *offer
	changed chan struct{} // closed and replaced on every change
}

// offer is an offer's state; the Offerer's mu guards it.
type offer struct {
	status   Status
	secret   [SecretSize]byte
	auto     bool
	busy     bool      // a session is running on it
	burned   bool      // a session failed to prove the secret
	decision chan bool // the user's answer, once in StateConfirm
	timer    *time.Timer
}

// NewOfferer starts serving ProtocolID on h; Close stops it.
func NewOfferer(h host.Host, cfg OffererConfig) *Offerer {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Step <= 0 {
		cfg.Step = defaultStep
	}
	if cfg.Confirm <= 0 {
		cfg.Confirm = defaultConfirm
	}
	o := &Offerer{host: h, cfg: cfg, changed: make(chan struct{})}
	h.SetStreamHandler(ProtocolID, o.handle)
	return o
}

// Close stops serving and cancels the open offer.
func (o *Offerer) Close() {
	o.host.RemoveStreamHandler(ProtocolID)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cur != nil && !o.cur.status.Final() {
		o.finish(o.cur, StateCancelled, "the daemon stopped")
	}
}

// Offer opens a new offer for ttl (DefaultTTL when 0) with addrs in its
// URI, replacing any open one. With autoConfirm the device that proves
// the secret is welcomed without asking.
func (o *Offerer) Offer(addrs []ma.Multiaddr, ttl time.Duration, autoConfirm bool) (Status, error) {
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < time.Second || ttl > MaxTTL {
		return Status{}, fmt.Errorf("failed to make a link: expiry %s is not between 1s and %s", ttl, MaxTTL)
	}
	if len(addrs) == 0 {
		return Status{}, errors.New("failed to make a link: this device listens on no LAN address (check network.listen in config.toml)")
	}
	u := URI{Peer: o.host.ID(), Addrs: addrs, Expires: time.Now().Add(ttl).Truncate(time.Second)}
	if _, err := rand.Read(u.Secret[:]); err != nil {
		return Status{}, fmt.Errorf("failed to make a link secret: %w", err)
	}
	s, err := u.format()
	if err != nil {
		return Status{}, fmt.Errorf("failed to make a link: %w", err)
	}
	var id [8]byte
	rand.Read(id[:])
	of := &offer{secret: u.Secret, auto: autoConfirm, status: Status{ID: hex.EncodeToString(id[:]), URI: s, Expires: u.Expires, State: StateWaiting}}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cur != nil && !o.cur.status.Final() {
		o.finish(o.cur, StateCancelled, "a newer link replaced it")
	}
	o.cur = of
	of.timer = time.AfterFunc(time.Until(u.Expires), func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if of.status.State == StateWaiting && !of.busy {
			o.finish(of, StateExpired, "no device used the link before it expired")
		}
	})
	o.notify(of)
	return of.status, nil
}

// Status returns the offer's status.
func (o *Offerer) Status(id string) (Status, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cur == nil || o.cur.status.ID != id {
		return Status{}, ErrUnknownOffer
	}
	return o.cur.status, nil
}

// Wait returns the offer's status once its Version is above since, or
// when ctx ends (then with the status as it is).
func (o *Offerer) Wait(ctx context.Context, id string, since uint64) (Status, error) {
	for {
		o.mu.Lock()
		if o.cur == nil || o.cur.status.ID != id {
			o.mu.Unlock()
			return Status{}, ErrUnknownOffer
		}
		st, ch := o.cur.status, o.changed
		o.mu.Unlock()
		if st.Version > since || st.Final() {
			return st, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return st, nil
		}
	}
}

// Confirm gives the user's answer to the offer awaiting confirmation.
func (o *Offerer) Confirm(id string, accept bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cur == nil || o.cur.status.ID != id {
		return ErrUnknownOffer
	}
	if o.cur.status.State != StateConfirm || o.cur.decision == nil {
		return ErrNotConfirming
	}
	select {
	case o.cur.decision <- accept:
	default: // answered already
	}
	return nil
}

// Cancel ends the offer unless it is past confirmation.
func (o *Offerer) Cancel(id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cur == nil || o.cur.status.ID != id {
		return ErrUnknownOffer
	}
	switch o.cur.status.State {
	case StateWaiting:
		o.finish(o.cur, StateCancelled, "cancelled")
	case StateConfirm:
		select {
		case o.cur.decision <- false:
		default:
		}
	}
	return nil
}

// notify bumps of's version and wakes the waiters; o.mu is held.
func (o *Offerer) notify(of *offer) {
	of.status.Version++
	close(o.changed)
	o.changed = make(chan struct{})
}

// finish puts of in a final state; o.mu is held.
func (o *Offerer) finish(of *offer, st State, why string) {
	of.status.State, of.status.Err = st, why
	if of.timer != nil {
		of.timer.Stop()
	}
	o.notify(of)
}

// set changes of's state under the lock.
func (o *Offerer) set(of *offer, fn func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fn()
	o.notify(of)
}

// handle runs the offerer's side of one session (SPEC.md, "Link
// protocol"): hello, challenge, proof, accept, the user's answer,
// welcome, done.
func (o *Offerer) handle(s network.Stream) {
	defer s.Close()
	log := o.cfg.Log.With("peer", s.Conn().RemotePeer())
	step := func(d time.Duration) { s.SetDeadline(time.Now().Add(d)) }
	refuse := func(code, reason string) {
		step(o.cfg.Step)
		writeMessage(s, &message{Type: typeRefuse, Code: code, Reason: reason})
	}
	step(o.cfg.Step)
	hello, err := readMessage(s)
	if err != nil || hello.Type != typeHello {
		log.Debug("refused a link session", "err", err)
		s.Reset()
		return
	}
	joiner := s.Conn().RemotePeer()
	o.mu.Lock()
	of := o.cur
	switch {
	case of == nil:
		o.mu.Unlock()
		refuse(codeNoOffer, "this device has no link open")
		return
	case of.busy:
		o.mu.Unlock()
		refuse(codeBusy, "another device is linking")
		return
	}
	open := of.status.State == StateWaiting
	if open {
		of.busy = true
	}
	o.mu.Unlock()
	proven := false
	defer func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if open {
			of.busy = false
		}
		// A session on an open offer that did not prove the secret
		// burns it, as a wormhole's nameplate dies after one guess.
		if open && !proven && of.status.State == StateWaiting {
			of.burned = true
			o.finish(of, StateFailed, fmt.Sprintf("device %s did not prove the link's secret (a wrong or mistyped link, or it gave up); the link is dead: make a new one", joiner))
		}
	}()

	nonceA, err := randomNonce()
	if err != nil {
		return
	}
	if err := writeMessage(s, &message{Type: typeChallenge, Nonce: nonceA}); err != nil {
		return
	}
	proof, err := readMessage(s)
	if err != nil || proof.Type != typeProof {
		log.Debug("link session ended before the proof", "err", err)
		return
	}
	ss := newSession(of.secret, o.host.ID(), joiner, nonceA, hello.Nonce, hello.Name)
	if !ss.check(labelJoiner, proof.MAC) {
		refuse(codeWrongSecret, "wrong secret")
		return
	}
	proven = true
	o.mu.Lock()
	switch {
	case !open && of.status.State == StateExpired:
		o.mu.Unlock()
		refuse(codeExpired, "the link expired")
		return
	case !open && of.burned:
		o.mu.Unlock()
		refuse(codeBurned, "a wrong secret was tried with the link")
		return
	case !open:
		o.mu.Unlock()
		refuse(codeUsed, "the link was used already")
		return
	case time.Now().After(of.status.Expires):
		o.finish(of, StateExpired, "no device used the link before it expired")
		o.mu.Unlock()
		refuse(codeExpired, "the link expired")
		return
	}
	of.timer.Stop()
	of.decision = make(chan bool, 1)
	of.status.State, of.status.Fingerprint, of.status.Device, of.status.DeviceName = StateConfirm, ss.fingerprint(), joiner, hello.Name
	o.notify(of)
	decision := of.decision
	o.mu.Unlock()

	fail := func(why string) {
		o.set(of, func() { of.status.State, of.status.Err = StateFailed, why })
	}
	if err := writeMessage(s, &message{Type: typeAccept, MAC: ss.mac(labelOfferer)}); err != nil {
		fail(fmt.Sprintf("the new device went away: %v", err))
		return
	}
	accepted := of.auto
	if !accepted {
		timer := time.NewTimer(o.cfg.Confirm)
		select {
		case accepted = <-decision:
		case <-timer.C:
			refuse(codeDeclined, "nobody confirmed in time")
			fail("nobody confirmed the fingerprint in time")
			return
		}
		timer.Stop()
	}
	if !accepted {
		refuse(codeDeclined, "declined on the other device")
		fail("declined")
		return
	}
	o.set(of, func() { of.status.State = StateSending })
	ctx, cancel := context.WithTimeout(context.Background(), storeWait)
	defer cancel()
	secret, cert, err := o.cfg.Welcome(ctx, joiner, hello.Name)
	if err != nil {
		refuse(codeFailed, "the device could not certify the new one")
		fail(fmt.Sprintf("failed to certify the new device: %v", err))
		return
	}
	wb := welcomeBody{Secret: secret, Cert: cert}
	if o.cfg.Epochs != nil {
		for _, e := range o.cfg.Epochs() {
			wb.Epochs = append(wb.Epochs, welcomeEpoch{N: e.N, Secret: e.Secret[:]})
		}
	}
	body, err := encMode.Marshal(wb)
	var sealed []byte
	if err == nil {
		sealed, err = ss.seal(body)
	}
	if err != nil {
		fail(fmt.Sprintf("failed to seal the welcome: %v", err))
		return
	}
	step(o.cfg.Step)
	if err := writeMessage(s, &message{Type: typeWelcome, Sealed: sealed}); err != nil {
		fail(fmt.Sprintf("the new device went away: %v", err))
		return
	}
	step(storeWait)
	done, err := readMessage(s)
	if err != nil || done.Type != typeDone {
		why := "it went away"
		if err != nil {
			why = err.Error()
		} else if done.Type == typeRefuse {
			why = done.Reason
		}
		fail(fmt.Sprintf("the new device did not store the account: %s", why))
		return
	}
	if err := o.cfg.Joined(ctx, cert); err != nil {
		fail(fmt.Sprintf("the new device joined, but failed to add it to the account root: %v", err))
		return
	}
	log.Info("a device joined the account", "name", hello.Name)
	o.set(of, func() { of.status.State = StateJoined })
}
