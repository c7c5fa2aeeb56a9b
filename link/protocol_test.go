package link

import (
	"context"
	"crypto/rand"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/vault"
)

// newHost starts a libp2p host on 127.0.0.1 (listening when listen).
func newHost(t *testing.T, listen bool) host.Host {
	t.Helper()
	opts := []libp2p.Option{libp2p.DisableRelay(), libp2p.NoListenAddrs}
	if listen {
		opts = []libp2p.Option{libp2p.DisableRelay(), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0")}
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// offerer is a running device's side: a host, an account, an Offerer.
type offerer struct {
	h      host.Host
	acct   *vault.Account
	o      *Offerer
	joined chan []byte
}

func newOfferer(t *testing.T, step time.Duration) *offerer {
	t.Helper()
	acct, err := vault.NewAccount(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	of := &offerer{h: newHost(t, true), acct: acct, joined: make(chan []byte, 4)}
	of.o = NewOfferer(of.h, OffererConfig{
		Step: step,
		Welcome: func(_ context.Context, device peer.ID, name string) ([]byte, []byte, error) {
			c, err := acct.CertifyDevice(device, name, time.Now().UnixNano())
			if err != nil {
				return nil, nil, err
			}
			b, err := c.Marshal()
			return acct.Secret(), b, err
		},
		Epochs: acct.Epochs,
		Joined: func(_ context.Context, cert []byte) error { of.joined <- cert; return nil },
	})
	t.Cleanup(of.o.Close)
	return of
}

func (of *offerer) offer(t *testing.T, ttl time.Duration, auto bool) (Status, URI) {
	t.Helper()
	st, err := of.o.Offer(LANAddrs(of.h.Addrs()), ttl, auto)
	if err != nil {
		t.Fatal(err)
	}
	u, err := Parse(st.URI)
	if err != nil {
		t.Fatal(err)
	}
	return st, u
}

// waitState waits, through Wait, for the offer to reach want.
func (of *offerer) waitState(t *testing.T, id string, want State) Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var since uint64
	for {
		st, err := of.o.Wait(ctx, id, since)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == want {
			return st
		}
		if st.Final() || ctx.Err() != nil {
			t.Fatalf("offer is %s (%s), want %s", st.State, st.Err, want)
		}
		since = st.Version
	}
}

// joiner joins with a new host; stored counts calls of Store.
type joiner struct {
	h      host.Host
	stored atomic.Int32
	fp     atomic.Value
}

func newJoiner(t *testing.T) *joiner { return &joiner{h: newHost(t, false)} }

func (j *joiner) join(u URI) (Welcome, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Join(ctx, j.h, u, JoinConfig{
		Name:        "laptop",
		Fingerprint: func(c string) { j.fp.Store(c) },
		Store:       func(Welcome) error { j.stored.Add(1); return nil },
	})
}

func TestJoinGood(t *testing.T) {
	of := newOfferer(t, 0)
	// The account's keys were rotated twice: the new device gets both.
	for range 2 {
		if _, err := of.acct.NewEpoch(rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	st, u := of.offer(t, time.Minute, true)
	j := newJoiner(t)
	w, err := j.join(u)
	if err != nil {
		t.Fatal(err)
	}
	if string(w.Account.Secret()) != string(of.acct.Secret()) || j.stored.Load() != 1 {
		t.Fatalf("joined %s, stored %d times", w.Account.ID(), j.stored.Load())
	}
	if got, want := w.Account.Epochs(), of.acct.Epochs(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("joined with key epochs %v, want %v", got, want)
	}
	c, err := vault.ParseDeviceCert(w.Cert)
	if err != nil || c.Device != j.h.ID() || c.Account != of.acct.PeerID() || c.Name != "laptop" {
		t.Fatalf("certificate %+v, %v", c, err)
	}
	if w.Offerer.ID != of.h.ID() || len(w.Offerer.Addrs) == 0 {
		t.Fatalf("offerer %v", w.Offerer)
	}
	end := of.waitState(t, st.ID, StateJoined)
	if end.Device != j.h.ID() || end.DeviceName != "laptop" || end.Fingerprint != j.fp.Load() {
		t.Fatalf("status %+v, joiner's fingerprint %v", end, j.fp.Load())
	}
	if got := <-of.joined; string(got) != string(w.Cert) {
		t.Fatal("Joined got another certificate")
	}

	// Reused: the same link again, from another device.
	again := newJoiner(t)
	if _, err := again.join(u); !errors.Is(err, ErrUsed) {
		t.Fatalf("reused link: %v, want ErrUsed", err)
	}
	if again.stored.Load() != 0 {
		t.Fatal("a reused link stored something")
	}
}

func TestJoinConfirmed(t *testing.T) {
	of := newOfferer(t, 0)
	st, u := of.offer(t, time.Minute, false)
	j := newJoiner(t)
	done := make(chan error, 1)
	go func() { _, err := j.join(u); done <- err }()
	conf := of.waitState(t, st.ID, StateConfirm)
	if err := of.o.Confirm(st.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if conf.Fingerprint == "" || conf.Fingerprint != j.fp.Load() {
		t.Fatalf("fingerprints %q and %q", conf.Fingerprint, j.fp.Load())
	}
	of.waitState(t, st.ID, StateJoined)
}

func TestJoinDeclined(t *testing.T) {
	of := newOfferer(t, 0)
	st, u := of.offer(t, time.Minute, false)
	j := newJoiner(t)
	done := make(chan error, 1)
	go func() { _, err := j.join(u); done <- err }()
	of.waitState(t, st.ID, StateConfirm)
	of.o.Confirm(st.ID, false)
	if err := <-done; !errors.Is(err, ErrDeclined) {
		t.Fatalf("declined: %v", err)
	}
	if j.stored.Load() != 0 || len(of.joined) != 0 {
		t.Fatal("a declined link stored something")
	}
	of.waitState(t, st.ID, StateFailed)
}

func TestJoinWrongSecretBurns(t *testing.T) {
	of := newOfferer(t, 0)
	st, u := of.offer(t, time.Minute, true)
	wrong := u
	wrong.Secret[0] ^= 1
	j := newJoiner(t)
	if _, err := j.join(wrong); !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("wrong secret: %v", err)
	}
	of.waitState(t, st.ID, StateFailed)
	// The right secret after a wrong guess: the offer is dead.
	if _, err := j.join(u); !errors.Is(err, ErrBurned) {
		t.Fatalf("right secret after a wrong one: %v, want ErrBurned", err)
	}
	if j.stored.Load() != 0 || len(of.joined) != 0 {
		t.Fatal("something was stored")
	}
}

func TestJoinExpired(t *testing.T) {
	of := newOfferer(t, 0)
	st, u := of.offer(t, time.Second, true)
	of.waitState(t, st.ID, StateExpired)
	j := newJoiner(t)
	if _, err := j.join(u); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired link: %v", err)
	}
	// Long expired by this device's clock: refused before dialling.
	u.Expires = time.Now().Add(-time.Hour)
	if _, err := j.join(u); !errors.Is(err, ErrExpired) {
		t.Fatalf("long expired link: %v", err)
	}
	if j.stored.Load() != 0 {
		t.Fatal("an expired link stored something")
	}
}

func TestJoinNoOfferAndBusy(t *testing.T) {
	of := newOfferer(t, 300*time.Millisecond)
	_, u := of.offer(t, time.Minute, true)
	of.o.Close()
	of.o = NewOfferer(of.h, OffererConfig{Step: 300 * time.Millisecond})
	if _, err := newJoiner(t).join(u); !errors.Is(err, ErrNoOffer) {
		t.Fatalf("no offer: %v", err)
	}

	// A session that says hello and then nothing holds the offer: a
	// second device is told it is busy; when the first times out, the
	// offer is burned.
	of2 := newOfferer(t, 300*time.Millisecond)
	st, u2 := of2.offer(t, time.Minute, true)
	squatter := newHost(t, false)
	ctx := context.Background()
	if err := squatter.Connect(ctx, peer.AddrInfo{ID: u2.Peer, Addrs: u2.Addrs}); err != nil {
		t.Fatal(err)
	}
	s, err := squatter.NewStream(ctx, u2.Peer, ProtocolID)
	if err != nil {
		t.Fatal(err)
	}
	nonce, _ := randomNonce()
	writeMessage(s, &message{Type: typeHello, Nonce: nonce, Name: "squat"})
	if m, err := readMessage(s); err != nil || m.Type != typeChallenge {
		t.Fatalf("challenge %v, %v", m, err)
	}
	if _, err := newJoiner(t).join(u2); !errors.Is(err, ErrBusy) {
		t.Fatalf("busy: %v", err)
	}
	of2.waitState(t, st.ID, StateFailed)
	s.Reset()
}

func TestJoinStoreFails(t *testing.T) {
	of := newOfferer(t, 0)
	st, u := of.offer(t, time.Minute, true)
	h := newHost(t, false)
	_, err := Join(context.Background(), h, u, JoinConfig{Name: "pi", Store: func(Welcome) error { return errors.New("disk full") }})
	if err == nil {
		t.Fatal("joined though Store failed")
	}
	end := of.waitState(t, st.ID, StateFailed)
	if len(of.joined) != 0 {
		t.Fatalf("Joined called; status %+v", end)
	}
}
