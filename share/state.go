package share

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
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

// State is what the account root lists besides the head, as this device
// knows it: following shares (state_follow.go), envelopes sent
// (state_sent.go) and the public index (state_public.go). Devices of the
// account learn each other's from the nodes of the account roots they
// take in (SPEC.md section 17): shares and envelopes are only added, an
// end once known stays, a public name goes to its latest entry; so every
// device ends with the same, whatever order roots reach it in.
type State struct {
	ds  ds.Datastore
	now func() time.Time
	log *slog.Logger

	mu     sync.Mutex
	shares map[[16]byte]vault.FollowShare
	sent   map[cid.Cid]vault.Sent     // envelopes this account sent
	pubs   map[string]vault.Published // the public index by name; CID undefined: unpublished

	onPublished func(vault.Published)
	onVersion   func(vault.FollowShare)
	contacts    *Contacts // carried in the root too; nil: not
	lastIndex   cid.Cid   // the public index folder written last

	copyMu sync.Mutex
	copies map[[16]byte]map[cid.Cid]vault.Entry // folders' shared copies made, by share and original
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

// WithVersionShared sets what is called, outside the state's lock, for
// each version link to a folder learnt from another device's root, so
// that this device fetches and keeps the folder's copy too.
func WithVersionShared(f func(vault.FollowShare)) Option { return func(s *State) { s.onVersion = f } }

// WithContacts has the account root carry the address book c to the
// account's other devices, and takes theirs in.
func WithContacts(c *Contacts) Option { return func(s *State) { s.contacts = c } }

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
		if f, ok := e.share(); ok {
			s.shares[vault.ShareTag(f.Secret)] = f
		}
	}
	return s, nil
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
		list = append(list, stored(s.shares[t]))
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

// listed counts what the account root lists: shares not forgotten and
// envelopes sent; the caller holds mu.
func (s *State) listed() int {
	n := len(s.sent)
	if s.contacts != nil {
		n++ // the contacts node, when there are contacts
	}
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
	var seenContacts []vault.ContactEntry
	var errs []error
	for _, c := range shares {
		data, err := v.Blocks().Get(ctx, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch kind, _ := vault.BlockKind(c, data); kind {
		case "contacts":
			if seenContacts, err = v.ReadContacts(ctx, c); err != nil {
				errs = append(errs, err)
			}
			continue
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
	if s.contacts != nil {
		l, err := s.contacts.Join(ctx, seenContacts)
		if err != nil {
			return false, err
		}
		lacks = l
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
	if s.onVersion != nil {
		var learnt []vault.FollowShare
		for t, was := range old {
			if f := s.shares[t]; f.Version.Defined() && !was.Version.Defined() && f.Ended == 0 {
				learnt = append(learnt, f)
			}
		}
		s.mu.Unlock()
		for _, f := range learnt {
			s.onVersion(f)
		}
		s.mu.Lock()
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
		live := f.Ended == 0 && (f.Expires == 0 || now < f.Expires)
		switch {
		case live && f.Version.Defined():
			file = &vault.Entry{Name: path.Base(f.Path), Kind: vault.KindDir, CID: f.Version, Key: f.VersionKey, Mode: 0o755}
		case live && t != nil:
			e, err := t.Stat(ctx, f.Path)
			var me *vault.MissingError
			var de *vault.DamagedError
			switch {
			case err == nil && e.Kind == vault.KindFile:
				file = &e
			case err == nil && e.Kind == vault.KindDir:
				cp, err := s.copyFolder(ctx, v, f, e)
				if err != nil {
					return nil, err
				}
				file = &cp
			case errors.As(err, &me) || errors.As(err, &de):
				return nil, err // the tree cannot be read: no root is better than one without the share
			}
			// Otherwise the path holds nothing now (or a file is on the
			// way to it): the share gives none.
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
	if s.contacts != nil {
		if es := s.contacts.Entries(); len(es) > 0 {
			c, err := v.WriteContacts(ctx, es)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// maxCopies bounds the folder copies a State remembers for one share;
// past it, the next root copies the folder afresh (the same blocks).
const maxCopies = 4096

// copyFolder gives the copy of the folder e that share f follows now
// (vault.CopyFolder), remembering the copies of its folders so that the
// next root copies only what changed.
func (s *State) copyFolder(ctx context.Context, v *vault.Vault, f vault.FollowShare, e vault.Entry) (vault.Entry, error) {
	s.copyMu.Lock()
	defer s.copyMu.Unlock()
	tag := vault.ShareTag(f.Secret)
	memo := s.copies[tag]
	if memo == nil || len(memo) > maxCopies {
		if s.copies == nil {
			s.copies = map[[16]byte]map[cid.Cid]vault.Entry{}
		}
		memo = map[cid.Cid]vault.Entry{}
		s.copies[tag] = memo
	}
	cp, err := v.CopyFolder(ctx, f.Secret, e.CID, e.Key, f.Path, memo)
	if err != nil {
		return vault.Entry{}, err
	}
	cp.Name, cp.Mtime, cp.Mode = e.Name, e.Mtime, e.Mode
	return cp, nil
}
