package share

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"

	"github.com/peer-cloud/peer/vault"
)

// MaxShares bounds the following shares an account root lists (ended
// ones included) and a device takes from a root.
const MaxShares = 4096

// keepEnded is how long an ended or expired share stays in the account
// root, so that devices that were off learn it ended (and links say so)
// before it is forgotten.
const keepEnded = 90 * 24 * time.Hour

var (
	stateKey  = ds.NewKey("/follow")
	sentKey   = ds.NewKey("/sent")
	publicKey = ds.NewKey("/public")
)

// State is the account's following shares as this device knows them.
// Devices of the account learn each other's from the share nodes of the
// account roots they take in (SPEC.md section 17.2): shares are only
// added, and an end, once known, stays; so every device ends with the
// same set, whatever order roots reach it in.
type State struct {
	ds  ds.Datastore
	now func() time.Time
	log *slog.Logger

	mu     sync.Mutex
	shares map[[16]byte]vault.FollowShare
	sent   map[cid.Cid]vault.Sent     // envelopes this account sent
	pubs   map[string]vault.Published // the public index by name; CID undefined: unpublished

	onPublished func(vault.Published)
	lastIndex   cid.Cid // the public index folder written last
}

// Option configures a State.
type Option func(*State)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *State) { s.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *State) { s.log = l } }

// WithPublished sets what is called, outside the state's lock, for each
// public entry learnt from another device's root (an unpublish has no
// CID), so that this device fetches and keeps its DAG too and writes the
// index folder the account's roots name.
func WithPublished(f func(vault.Published)) Option { return func(s *State) { s.onPublished = f } }

type storedShare struct {
	Secret  []byte `cbor:"secret"`
	Path    string `cbor:"path"`
	Made    int64  `cbor:"made"`
	Expires int64  `cbor:"expires"`
	Ended   int64  `cbor:"ended"`
}

// Open loads the state kept in d.
func Open(ctx context.Context, d ds.Datastore, opts ...Option) (*State, error) {
	s := &State{ds: d, now: time.Now, log: slog.New(slog.DiscardHandler), shares: map[[16]byte]vault.FollowShare{}, sent: map[cid.Cid]vault.Sent{}, pubs: map[string]vault.Published{}}
	for _, o := range opts {
		o(s)
	}
	if err := s.loadSent(ctx); err != nil {
		return nil, err
	}
	if err := s.loadPublic(ctx); err != nil {
		return nil, err
	}
	b, err := d.Get(ctx, stateKey)
	if errors.Is(err, ds.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the shares: %w", err)
	}
	var list []storedShare
	if err := cbor.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("failed to read the shares (the datastore entry is damaged; links still open once another device of the account publishes): %w", err)
	}
	for _, e := range list {
		if len(e.Secret) != 32 {
			continue
		}
		f := vault.FollowShare{Path: e.Path, Made: e.Made, Expires: e.Expires, Ended: e.Ended}
		copy(f.Secret[:], e.Secret)
		s.shares[vault.ShareTag(f.Secret)] = f
	}
	return s, nil
}

type storedSent struct {
	CID        []byte   `cbor:"cid"`
	Recipients []string `cbor:"recipients"`
	Made       int64    `cbor:"made"`
}

func (s *State) loadSent(ctx context.Context) error {
	b, err := s.ds.Get(ctx, sentKey)
	if errors.Is(err, ds.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read the envelopes sent: %w", err)
	}
	var list []storedSent
	if err := cbor.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("failed to read the envelopes sent (the datastore entry is damaged): %w", err)
	}
	for _, e := range list {
		c, err := cid.Cast(e.CID)
		if err != nil {
			continue
		}
		s.sent[c] = vault.Sent{CID: c, Recipients: e.Recipients, Made: e.Made}
	}
	return nil
}

// sortedSent lists the envelopes sent, by CID; the caller holds mu.
func (s *State) sortedSent() []vault.Sent {
	out := make([]vault.Sent, 0, len(s.sent))
	for _, e := range s.sent {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b vault.Sent) int { return strings.Compare(a.CID.KeyString(), b.CID.KeyString()) })
	return out
}

// save writes the state; the caller holds mu.
func (s *State) save(ctx context.Context) error {
	sent := make([]storedSent, 0, len(s.sent))
	for _, e := range s.sortedSent() {
		sent = append(sent, storedSent{CID: e.CID.Bytes(), Recipients: e.Recipients, Made: e.Made})
	}
	sb, err := cbor.Marshal(sent)
	if err != nil {
		return err
	}
	if err := s.ds.Put(ctx, sentKey, sb); err != nil {
		return fmt.Errorf("failed to save the envelopes sent: %w", err)
	}
	if err := s.savePublic(ctx); err != nil {
		return err
	}
	list := make([]storedShare, 0, len(s.shares))
	for _, t := range s.sortedTags() {
		f := s.shares[t]
		list = append(list, storedShare{Secret: f.Secret[:], Path: f.Path, Made: f.Made, Expires: f.Expires, Ended: f.Ended})
	}
	b, err := cbor.Marshal(list)
	if err != nil {
		return err
	}
	if err := s.ds.Put(ctx, stateKey, b); err != nil {
		return fmt.Errorf("failed to save the shares: %w", err)
	}
	if err := s.ds.Sync(ctx, stateKey); err != nil {
		return fmt.Errorf("failed to save the shares: %w", err)
	}
	return nil
}

func (s *State) sortedTags() [][16]byte {
	tags := make([][16]byte, 0, len(s.shares))
	for t := range s.shares {
		tags = append(tags, t)
	}
	slices.SortFunc(tags, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	return tags
}

// ShareID is the text form of a share's tag, what 'peer shares' shows.
func ShareID(secret [32]byte) string {
	t := vault.ShareTag(secret)
	return hex.EncodeToString(t[:])
}

// Add makes a following share of path, expiring after expires (0:
// never), and returns it. r is crypto/rand's Reader when nil.
func (s *State) Add(ctx context.Context, r io.Reader, path string, expires time.Duration) (vault.FollowShare, error) {
	if r == nil {
		r = rand.Reader
	}
	f := vault.FollowShare{Path: path, Made: s.now().UnixNano()}
	if expires > 0 {
		f.Expires = f.Made + int64(expires)
	}
	if _, err := io.ReadFull(r, f.Secret[:]); err != nil {
		return f, fmt.Errorf("failed to make a share secret: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listed() >= MaxShares {
		return f, fmt.Errorf("this account lists %d shares and envelopes, the most a root holds (an ended share stays listed 90 days): end some with 'peer unshare'", MaxShares)
	}
	s.shares[vault.ShareTag(f.Secret)] = f
	if err := s.save(ctx); err != nil {
		delete(s.shares, vault.ShareTag(f.Secret))
		return f, err
	}
	return f, nil
}

// listed counts what the account root lists: shares not forgotten and
// envelopes sent; the caller holds mu.
func (s *State) listed() int {
	n := len(s.sent)
	for _, p := range s.pubs {
		if !s.pubForgotten(p) {
			n++
		}
	}
	for _, f := range s.shares {
		if !s.forgotten(f) {
			n++
		}
	}
	return n
}

// End ends the shares match picks that have not ended, and returns them.
func (s *State) End(ctx context.Context, match func(vault.FollowShare) bool) ([]vault.FollowShare, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UnixNano()
	var out []vault.FollowShare
	old := map[[16]byte]vault.FollowShare{}
	for t, f := range s.shares {
		if f.Ended == 0 && match(f) {
			old[t] = f
			f.Ended = now
			s.shares[t] = f
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	if err := s.save(ctx); err != nil {
		for t, f := range old {
			s.shares[t] = f
		}
		return nil, err
	}
	return out, nil
}

// List returns the shares, ended ones too, oldest first.
func (s *State) List() []vault.FollowShare {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]vault.FollowShare, 0, len(s.shares))
	for _, f := range s.shares {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b vault.FollowShare) int {
		if c := cmp.Compare(a.Made, b.Made); c != 0 {
			return c
		}
		return bytes.Compare(a.Secret[:], b.Secret[:])
	})
	return out
}

// join takes another device's view of one share: the earliest end wins,
// as does the earliest expiry, so an end is never undone.
func join(a, b vault.FollowShare) vault.FollowShare {
	earliest := func(x, y int64) int64 {
		if x == 0 || (y != 0 && y < x) {
			return y
		}
		return x
	}
	a.Ended = earliest(a.Ended, b.Ended)
	a.Expires = earliest(a.Expires, b.Expires)
	a.Made = min(a.Made, b.Made)
	if a.Path != b.Path && b.Path < a.Path {
		a.Path = b.Path // never differs between devices; any fixed pick converges
	}
	return a
}

// Learn takes in the shares the account root r lists, reading their
// owner parts through v (its blocks must be local). It reports whether r
// lacks a share this device knows, or an end or expiry of one.
func (s *State) Learn(ctx context.Context, v *vault.Vault, r *vault.Root) (lacks bool, err error) {
	shares := r.Shares
	if len(shares) > MaxShares {
		shares = shares[:MaxShares]
	}
	seen := map[[16]byte]vault.FollowShare{}
	seenSent := map[cid.Cid]vault.Sent{}
	seenPub := map[string]vault.Published{}
	var errs []error
	for _, c := range shares {
		data, err := v.Blocks().Get(ctx, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch kind, _ := vault.BlockKind(c, data); kind {
		case "pub":
			p, err := v.ReadPublished(ctx, c)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if have, ok := seenPub[p.Name]; !ok || newerPub(p, have) {
				seenPub[p.Name] = p
			}
			continue
		case "envelope":
			e, err := v.EnvelopeOwner(ctx, c)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			seenSent[c] = e
			continue
		}
		f, err := v.ShareOwner(ctx, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seen[vault.ShareTag(f.Secret)] = f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	addedSent := []cid.Cid{}
	for c, e := range seenSent {
		if _, ok := s.sent[c]; !ok && len(s.sent) < MaxShares {
			s.sent[c] = e
			addedSent = append(addedSent, c)
			changed = true
		}
	}
	oldPub := map[string]*vault.Published{}
	for name, p := range seenPub {
		have, ok := s.pubs[name]
		if (ok && !newerPub(p, have)) || (!ok && s.pubForgotten(p)) {
			continue
		}
		if ok {
			oldPub[name] = &have
		} else {
			oldPub[name] = nil
		}
		s.pubs[name] = p
		changed = true
	}
	old := map[[16]byte]vault.FollowShare{}
	for t, f := range seen {
		have, ok := s.shares[t]
		n := f
		if ok {
			if n = join(have, f); n == have {
				continue
			}
		} else if s.forgotten(f) {
			continue
		}
		old[t] = have
		s.shares[t] = n
		changed = true
	}
	if changed {
		if err := s.save(ctx); err != nil {
			for t, f := range old {
				if f.Secret == ([32]byte{}) {
					delete(s.shares, t)
				} else {
					s.shares[t] = f
				}
			}
			for _, c := range addedSent {
				delete(s.sent, c)
			}
			for name, p := range oldPub {
				if p == nil {
					delete(s.pubs, name)
				} else {
					s.pubs[name] = *p
				}
			}
			return false, err
		}
	}
	for t, f := range s.shares {
		if r, ok := seen[t]; (!ok || r != f) && !s.forgotten(f) {
			lacks = true
		}
	}
	for c := range s.sent {
		if _, ok := seenSent[c]; !ok {
			lacks = true
		}
	}
	for name, p := range s.pubs {
		if r, ok := seenPub[name]; (!ok || r != p) && !s.pubForgotten(p) {
			lacks = true
		}
	}
	if s.onPublished != nil {
		var learnt []vault.Published
		for name := range oldPub {
			learnt = append(learnt, s.pubs[name])
		}
		s.mu.Unlock()
		for _, p := range learnt {
			s.onPublished(p)
		}
		s.mu.Lock()
	}
	return lacks, errors.Join(errs...)
}

// forgotten reports whether f ended or expired so long ago that it is no
// longer listed (nor taken back from an old root).
func (s *State) forgotten(f vault.FollowShare) bool {
	end := f.Ended
	if f.Expires != 0 && (end == 0 || f.Expires < end) {
		end = f.Expires
	}
	return end != 0 && s.now().Sub(time.Unix(0, end)) > keepEnded
}

// RootShares writes the share nodes for the account root of a head whose
// tree is t (nil: an empty vault) and returns them in tag order: each
// live share gives the file at its path now; an ended or expired one
// gives nothing, until it is forgotten.
func (s *State) RootShares(ctx context.Context, v *vault.Vault, t *vault.Tree) ([]cid.Cid, error) {
	s.mu.Lock()
	var list []vault.FollowShare
	for _, tag := range s.sortedTags() {
		f := s.shares[tag]
		if !s.forgotten(f) {
			list = append(list, f)
		}
	}
	now := s.now().UnixNano()
	s.mu.Unlock()
	out := make([]cid.Cid, 0, len(list))
	for _, f := range list {
		var file *vault.Entry
		if f.Ended == 0 && (f.Expires == 0 || now < f.Expires) && t != nil {
			e, err := t.Stat(ctx, f.Path)
			var me *vault.MissingError
			var de *vault.DamagedError
			switch {
			case err == nil && e.Kind == vault.KindFile:
				file = &e
			case errors.As(err, &me) || errors.As(err, &de):
				return nil, err // the tree cannot be read: no root is better than one without the share
			}
			// Otherwise the path holds no file now (none there, a folder,
			// or a file on the way to it): the share gives none.
		}
		c, err := v.WriteShare(ctx, f, file)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	s.mu.Lock()
	for _, e := range s.sortedSent() {
		out = append(out, e.CID)
	}
	var pubs []vault.Published
	for _, name := range s.pubNames() {
		if p := s.pubs[name]; !s.pubForgotten(p) {
			pubs = append(pubs, p)
		}
	}
	s.mu.Unlock()
	for _, p := range pubs {
		c, err := v.WritePublished(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// AddSent keeps an envelope this device sent, for the account root to
// list (so the account's other devices learn of it, and recipients that
// were away find it) and for delivering it again.
func (s *State) AddSent(ctx context.Context, e vault.Sent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listed() >= MaxShares {
		return fmt.Errorf("this account lists %d shares and envelopes, the most a root holds", MaxShares)
	}
	s.sent[e.CID] = e
	if err := s.save(ctx); err != nil {
		delete(s.sent, e.CID)
		return err
	}
	return nil
}

// Sent lists the envelopes this account sent, by CID.
func (s *State) Sent() []vault.Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedSent()
}

// NextExpiry is the earliest time a live share expires (zero: none), when
// the account root must be written again without it.
func (s *State) NextExpiry() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next int64
	now := s.now().UnixNano()
	for _, f := range s.shares {
		if f.Ended == 0 && f.Expires > now && (next == 0 || f.Expires < next) {
			next = f.Expires
		}
	}
	if next == 0 {
		return time.Time{}
	}
	return time.Unix(0, next)
}

type storedPub struct {
	Name  string `cbor:"name"`
	CID   []byte `cbor:"cid,omitempty"`
	Tsize uint64 `cbor:"tsize"`
	Size  uint64 `cbor:"size"`
	Time  int64  `cbor:"time"`
}

func (s *State) loadPublic(ctx context.Context) error {
	b, err := s.ds.Get(ctx, publicKey)
	if errors.Is(err, ds.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read the public index: %w", err)
	}
	var list []storedPub
	if err := cbor.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("failed to read the public index (the datastore entry is damaged): %w", err)
	}
	for _, e := range list {
		p := vault.Published{Name: e.Name, Tsize: e.Tsize, Size: e.Size, Time: e.Time}
		if len(e.CID) > 0 {
			if p.CID, err = cid.Cast(e.CID); err != nil {
				continue
			}
		}
		s.pubs[p.Name] = p
	}
	return nil
}

// savePublic writes the public index; the caller holds mu.
func (s *State) savePublic(ctx context.Context) error {
	list := make([]storedPub, 0, len(s.pubs))
	for _, name := range s.pubNames() {
		p := s.pubs[name]
		e := storedPub{Name: p.Name, Tsize: p.Tsize, Size: p.Size, Time: p.Time}
		if p.CID.Defined() {
			e.CID = p.CID.Bytes()
		}
		list = append(list, e)
	}
	b, err := cbor.Marshal(list)
	if err != nil {
		return err
	}
	if err := s.ds.Put(ctx, publicKey, b); err != nil {
		return fmt.Errorf("failed to save the public index: %w", err)
	}
	return nil
}

func (s *State) pubNames() []string {
	names := make([]string, 0, len(s.pubs))
	for n := range s.pubs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// newerPub reports whether a wins over b for one name: the later time,
// then the greater CID (an unpublish, with none, loses a tie), so every
// device keeps the same.
func newerPub(a, b vault.Published) bool {
	if a.Time != b.Time {
		return a.Time > b.Time
	}
	return a.CID.KeyString() > b.CID.KeyString()
}

// pubForgotten reports whether p is an unpublish old enough to forget.
func (s *State) pubForgotten(p vault.Published) bool {
	return !p.CID.Defined() && s.now().Sub(time.Unix(0, p.Time)) > keepEnded
}

// Publish puts p into the public index under p.Name (replacing what was
// there); p.Time is set to now.
func (s *State) Publish(ctx context.Context, p vault.Published) (vault.Published, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.pubs[p.Name]
	if !had && s.listed() >= MaxShares {
		return p, fmt.Errorf("this account lists %d shares, envelopes and public names, the most a root holds", MaxShares)
	}
	p.Time = max(s.now().UnixNano(), old.Time+1)
	s.pubs[p.Name] = p
	if err := s.save(ctx); err != nil {
		if had {
			s.pubs[p.Name] = old
		} else {
			delete(s.pubs, p.Name)
		}
		return p, err
	}
	return p, nil
}

// Unpublish takes name out of the public index; ErrNotPublished if it is
// not there.
func (s *State) Unpublish(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.pubs[name]
	if !ok || !old.CID.Defined() {
		return ErrNotPublished
	}
	s.pubs[name] = vault.Published{Name: name, Time: max(s.now().UnixNano(), old.Time+1)}
	if err := s.save(ctx); err != nil {
		s.pubs[name] = old
		return err
	}
	return nil
}

// ErrNotPublished says a name is not in the public index.
var ErrNotPublished = errors.New("no such name in the public index ('peer ls ACCOUNT:/' lists it)")

// Public lists the public index, by name.
func (s *State) Public() []vault.Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []vault.Published
	for _, name := range s.pubNames() {
		if p := s.pubs[name]; p.CID.Defined() {
			out = append(out, p)
		}
	}
	return out
}

// PublicRoots are the DAGs of the public index and its folder, for GC to
// keep.
func (s *State) PublicRoots(context.Context) ([]cid.Cid, error) {
	var out []cid.Cid
	s.mu.Lock()
	if s.lastIndex.Defined() {
		out = append(out, s.lastIndex)
	}
	s.mu.Unlock()
	for _, p := range s.Public() {
		out = append(out, p.CID)
	}
	return out, nil
}
