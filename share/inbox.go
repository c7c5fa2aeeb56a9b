package share

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"

	"github.com/peer-cloud/peer/internal/frame"
	"github.com/peer-cloud/peer/vault"
)

// Inbox bounds (SPEC.md section 17.4).
const (
	MaxInboxMessage = 64 << 10            // bytes of one inbox message
	MaxStrangers    = 100                 // envelopes kept from accounts that are not contacts
	StrangerRate    = 10                  // envelopes a stranger may deliver an hour
	resendFor       = 30 * 24 * time.Hour // how long a sender delivers an envelope again
)

// InboxTopic is the pubsub topic that delivers envelopes to account.
func InboxTopic(account string) string { return "/peer/inbox/1/" + account }

const sigLabel = "peer/v1 inbox"

// message is an inbox message as sent.
type message struct {
	From string `cbor:"from"`
	To   string `cbor:"to"`
	Env  []byte `cbor:"env"`
	Sig  []byte `cbor:"sig"`
}

func sigInput(to string, env cid.Cid) []byte {
	return slices.Concat([]byte(sigLabel), []byte{0}, []byte(to), []byte{0}, env.Bytes())
}

// Received is an envelope that reached this account.
type Received struct {
	vault.Envelope
	At      time.Time // when it came
	Contact bool      // its sender was a contact when it came
}

// Link is the version link that opens what was shared.
func (r Received) Link() Link { return Link{Target: r.Version, Key: r.Key} }

// InboxConfig is what an Inbox needs.
type InboxConfig struct {
	Host    host.Host // for pushing envelopes straight to recipients\' devices
	PubSub  *pubsub.PubSub
	Vault   *vault.Vault   // this account's, to open envelopes and read those sent
	Key     crypto.PrivKey // the account signing key, to sign what it sends
	DS      ds.Datastore   // where received envelopes are kept
	State   *State         // the envelopes sent
	Contact func(account string) bool
	Log     *slog.Logger
}

// Inbox receives share envelopes on this account's inbox topic, and
// sends this account's to their recipients' topics, again whenever a
// recipient's device joins one.
type Inbox struct {
	cfg  InboxConfig
	self string
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu       sync.Mutex
	topics   map[string]*pubsub.Topic // recipients' topics joined
	recent   map[string][]time.Time   // strangers' deliveries in the last hour
	received map[cid.Cid]bool
	strays   int // envelopes kept from accounts that were not contacts
	notify   []chan struct{}
	devices  map[string][]peer.ID // recipients' devices, from their roots
	slots    chan struct{}        // pushes served at once
}

// PushProtocol delivers an envelope straight to a device of its recipient
// (SPEC.md section 17.4): gossipsub can lose a message to a peer whose
// duplicate connection died, which a stream on a live connection does not.
const PushProtocol = "/peer/inbox/1"

const pushTimeout = 10 * time.Second

// StartInbox subscribes to the account's inbox topic.
func StartInbox(ctx context.Context, cfg InboxConfig) (*Inbox, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Contact == nil {
		cfg.Contact = func(string) bool { return false }
	}
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	in := &Inbox{cfg: cfg, self: cfg.Vault.Account().ID(), ctx: ctx, stop: stop, topics: map[string]*pubsub.Topic{}, recent: map[string][]time.Time{}, received: map[cid.Cid]bool{},
		devices: map[string][]peer.ID{}, slots: make(chan struct{}, 4)}
	list, err := in.List(ctx)
	if err != nil {
		stop()
		return nil, err
	}
	for _, r := range list {
		in.received[r.CID] = true
		if !r.Contact {
			in.strays++
		}
	}
	name := InboxTopic(in.self)
	if err := cfg.PubSub.RegisterTopicValidator(name, in.validate); err != nil {
		stop()
		return nil, fmt.Errorf("failed to join the inbox topic: %w", err)
	}
	t, err := cfg.PubSub.Join(name)
	if err != nil {
		stop()
		return nil, fmt.Errorf("failed to join the inbox topic: %w", err)
	}
	sub, err := t.Subscribe()
	if err != nil {
		stop()
		return nil, fmt.Errorf("failed to join the inbox topic: %w", err)
	}
	in.wg.Add(1)
	go in.receive(sub)
	if cfg.Host != nil {
		cfg.Host.SetStreamHandler(PushProtocol, in.servePush)
	}
	for _, e := range cfg.State.Sent() {
		for _, to := range e.Recipients {
			if _, err := in.topic(to); err != nil {
				cfg.Log.Debug("failed to join a recipient's inbox topic", "to", to, "err", err)
			}
		}
	}
	return in, nil
}

// Close stops receiving and sending.
func (in *Inbox) Close() {
	if in.cfg.Host != nil {
		in.cfg.Host.RemoveStreamHandler(PushProtocol)
	}
	in.stop()
	in.wg.Wait()
}

// open checks a message and opens its envelope.
func (in *Inbox) open(data []byte) (vault.Envelope, error) {
	if len(data) > MaxInboxMessage {
		return vault.Envelope{}, fmt.Errorf("inbox message of %d bytes", len(data))
	}
	var m message
	if err := cbor.Unmarshal(data, &m); err != nil {
		return vault.Envelope{}, fmt.Errorf("inbox message: %w", err)
	}
	if m.To != in.self {
		return vault.Envelope{}, errors.New("inbox message for another account")
	}
	from, err := vault.ParseAccountID(m.From)
	if err != nil {
		return vault.Envelope{}, err
	}
	pub, err := from.ExtractPublicKey()
	if err != nil {
		return vault.Envelope{}, err
	}
	c, err := cid.V1Builder{Codec: cid.DagCBOR, MhType: mh.SHA2_256}.Sum(m.Env)
	if err != nil {
		return vault.Envelope{}, err
	}
	if ok, err := pub.Verify(sigInput(m.To, c), m.Sig); err != nil || !ok {
		return vault.Envelope{}, errors.New("inbox message not signed by its sender")
	}
	e, err := in.cfg.Vault.OpenEnvelope(c, m.Env)
	if err != nil {
		return vault.Envelope{}, err
	}
	if e.From != m.From {
		return vault.Envelope{}, errors.New("the envelope names another sender than its message")
	}
	return e, nil
}

func (in *Inbox) validate(ctx context.Context, _ peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	e, err := in.open(msg.Data)
	if errors.Is(err, vault.ErrNotForUs) {
		in.cfg.Log.Debug("ignored an inbox message: its envelope is not for this account")
		return pubsub.ValidationIgnore
	}
	if err != nil {
		in.cfg.Log.Debug("refused an inbox message", "err", err)
		return pubsub.ValidationReject
	}
	msg.ValidatorData = e
	return pubsub.ValidationAccept
}

func (in *Inbox) receive(sub *pubsub.Subscription) {
	defer in.wg.Done()
	defer sub.Cancel()
	for {
		msg, err := sub.Next(in.ctx)
		if err != nil {
			return
		}
		e, ok := msg.ValidatorData.(vault.Envelope)
		if !ok {
			continue
		}
		if err := in.keep(in.ctx, e); err != nil {
			in.cfg.Log.Warn("failed to keep a share that came", "from", e.From, "err", err)
		}
	}
}

func inboxKey(c cid.Cid) ds.Key { return ds.NewKey("/inbox/" + c.String()) }

type storedReceived struct {
	Env     []byte `cbor:"env"` // the envelope's CID
	From    string `cbor:"from"`
	Version []byte `cbor:"version"`
	Key     []byte `cbor:"key"`
	Name    string `cbor:"name"`
	Size    uint64 `cbor:"size"`
	Mtime   int64  `cbor:"mtime"`
	Mode    uint32 `cbor:"mode"`
	Time    int64  `cbor:"time"`
	At      int64  `cbor:"at"`
	Contact bool   `cbor:"contact"`
}

// keep stores an envelope that came, within the bounds on strangers.
func (in *Inbox) keep(ctx context.Context, e vault.Envelope) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.received[e.CID] {
		in.cfg.Log.Debug("a share came again", "from", e.From, "envelope", e.CID)
		return nil
	}
	contact := in.cfg.Contact(e.From)
	now := time.Now()
	if !contact {
		// The total first, so that what recent holds stays bounded by it.
		if in.strays >= MaxStrangers {
			in.cfg.Log.Info("dropped a share from an account not in the contacts: the inbox holds the most it keeps from strangers", "from", e.From)
			return nil
		}
		times := slices.DeleteFunc(in.recent[e.From], func(t time.Time) bool { return now.Sub(t) > time.Hour })
		if len(times) >= StrangerRate {
			in.recent[e.From] = times
			in.cfg.Log.Info("dropped a share from an account not in the contacts: it sent more than the hourly bound", "from", e.From)
			return nil
		}
		in.recent[e.From] = append(times, now)
	}
	b, err := cbor.Marshal(storedReceived{Env: e.CID.Bytes(), From: e.From, Version: e.Version.Bytes(), Key: e.Key[:], Name: e.Name, Size: e.Size, Mtime: e.Mtime, Mode: e.Mode, Time: e.Time, At: now.UnixNano(), Contact: contact})
	if err != nil {
		return err
	}
	if err := in.cfg.DS.Put(ctx, inboxKey(e.CID), b); err != nil {
		return fmt.Errorf("failed to keep a share: %w", err)
	}
	in.received[e.CID] = true
	if !contact {
		in.strays++
	}
	in.cfg.Log.Debug("kept a share", "from", e.From, "contact", contact, "envelope", e.CID)
	for _, ch := range in.notify {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return nil
}

// List returns the envelopes that came, newest first.
func (in *Inbox) List(ctx context.Context) ([]Received, error) {
	// The whole datastore: it holds only envelopes (and a prefix equal
	// to the daemon's namespace name finds nothing through go-datastore's
	// key transform, TestInboxKeepsOnBadger).
	res, err := in.cfg.DS.Query(ctx, query.Query{})
	if err != nil {
		return nil, fmt.Errorf("failed to list the inbox: %w", err)
	}
	defer res.Close()
	var out []Received
	for r := range res.Next() {
		if r.Error != nil {
			return nil, fmt.Errorf("failed to list the inbox: %w", r.Error)
		}
		var s storedReceived
		if err := cbor.Unmarshal(r.Value, &s); err != nil || len(s.Key) != 32 {
			continue
		}
		env, err1 := cid.Cast(s.Env)
		ver, err2 := cid.Cast(s.Version)
		if err1 != nil || err2 != nil {
			continue
		}
		e := Received{Envelope: vault.Envelope{CID: env, From: s.From, Version: ver, Name: s.Name, Size: s.Size, Mtime: s.Mtime, Mode: s.Mode, Time: s.Time}, At: time.Unix(0, s.At), Contact: s.Contact}
		copy(e.Key[:], s.Key)
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Received) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return bytes.Compare(a.CID.Bytes(), b.CID.Bytes())
	})
	return out, nil
}

// Watch returns a channel that receives after each envelope kept.
func (in *Inbox) Watch() <-chan struct{} {
	ch := make(chan struct{}, 1)
	in.mu.Lock()
	in.notify = append(in.notify, ch)
	in.mu.Unlock()
	return ch
}

// topic joins a recipient's inbox topic, once, and delivers the
// envelopes sent to it again whenever a peer joins the topic (a device of
// the recipient coming online).
func (in *Inbox) topic(to string) (*pubsub.Topic, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if t := in.topics[to]; t != nil {
		return t, nil
	}
	t, err := in.cfg.PubSub.Join(InboxTopic(to))
	if err != nil {
		return nil, err
	}
	h, err := t.EventHandler()
	if err != nil {
		t.Close()
		return nil, err
	}
	in.topics[to] = t
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		defer h.Cancel()
		for {
			ev, err := h.NextPeerEvent(in.ctx)
			if err != nil {
				return
			}
			if ev.Type == pubsub.PeerJoin {
				in.resend(to, ev.Peer)
			}
		}
	}()
	return t, nil
}

// resend delivers again the envelopes sent to to in the last resendFor,
// also straight to the peer that joined its topic.
func (in *Inbox) resend(to string, joined peer.ID) {
	now := time.Now()
	for _, e := range in.cfg.State.Sent() {
		if !slices.Contains(e.Recipients, to) || now.Sub(time.Unix(0, e.Made)) > resendFor {
			continue
		}
		data, err := in.cfg.Vault.Blocks().Get(in.ctx, e.CID)
		if err != nil {
			in.cfg.Log.Debug("failed to read an envelope to send again", "envelope", e.CID, "err", err)
			continue
		}
		blk, err := blocks.NewBlockWithCid(data, e.CID)
		if err != nil {
			continue
		}
		if err := in.send(in.ctx, to, blk, []peer.ID{joined}); err != nil {
			in.cfg.Log.Debug("failed to send an envelope again", "to", to, "err", err)
		}
	}
}

// SetDevices notes the devices of account to (from its root's
// certificates), to push envelopes to straight.
func (in *Inbox) SetDevices(to string, devices []peer.ID) {
	in.mu.Lock()
	in.devices[to] = devices
	in.mu.Unlock()
}

// Send delivers an envelope to account to: on its inbox topic, and
// straight to each of its devices this node is connected to.
func (in *Inbox) Send(ctx context.Context, to string, env blocks.Block) error {
	in.mu.Lock()
	devices := in.devices[to]
	in.mu.Unlock()
	return in.send(ctx, to, env, devices)
}

func (in *Inbox) send(ctx context.Context, to string, env blocks.Block, devices []peer.ID) error {
	t, err := in.topic(to)
	if err != nil {
		return fmt.Errorf("failed to join the inbox topic of %s: %w", to, err)
	}
	sig, err := in.cfg.Key.Sign(sigInput(to, env.Cid()))
	if err != nil {
		return err
	}
	b, err := cbor.Marshal(message{From: in.self, To: to, Env: env.RawData(), Sig: sig})
	if err != nil {
		return err
	}
	if len(b) > MaxInboxMessage {
		return fmt.Errorf("the envelope makes an inbox message of %d bytes, over %d", len(b), MaxInboxMessage)
	}
	err = t.Publish(ctx, b)
	pushed := 0
	for _, p := range devices {
		if in.push(ctx, p, b) == nil {
			pushed++
		}
	}
	in.cfg.Log.Debug("sent a share", "to", to, "envelope", env.Cid(), "peers on its inbox topic", len(t.ListPeers()), "devices pushed to", pushed, "err", err)
	if err != nil && pushed == 0 {
		return fmt.Errorf("failed to send a share to %s: %w", to, err)
	}
	return nil
}

// push writes an inbox message on a stream to device p, if connected.
func (in *Inbox) push(ctx context.Context, p peer.ID, msg []byte) error {
	if in.cfg.Host == nil || in.cfg.Host.Network().Connectedness(p) != network.Connected {
		return errors.New("not connected")
	}
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	s, err := in.cfg.Host.NewStream(ctx, p, PushProtocol)
	if err != nil {
		return err
	}
	s.SetDeadline(time.Now().Add(pushTimeout))
	if err := frame.Write(s, msg); err != nil {
		s.Reset()
		return err
	}
	// The receiver closes once it has read the message.
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		return err
	}
	_, err = io.Copy(io.Discard, io.LimitReader(s, 1))
	s.Close()
	return err
}

// servePush takes an inbox message pushed on a stream.
func (in *Inbox) servePush(s network.Stream) {
	select {
	case in.slots <- struct{}{}:
		defer func() { <-in.slots }()
	default:
		s.Reset()
		return
	}
	s.SetDeadline(time.Now().Add(pushTimeout))
	data, err := frame.Read(s, MaxInboxMessage)
	if err != nil {
		s.Reset()
		return
	}
	e, err := in.open(data)
	if err != nil {
		in.cfg.Log.Debug("refused a pushed inbox message", "peer", s.Conn().RemotePeer(), "err", err)
		s.Reset()
		return
	}
	if err := in.keep(in.ctx, e); err != nil {
		in.cfg.Log.Warn("failed to keep a share that came", "from", e.From, "err", err)
	}
	s.Close()
}
