package share

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"

	"github.com/peer-cloud/peer/vault"
)

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
