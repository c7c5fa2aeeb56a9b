package share

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"

	"github.com/peer-cloud/peer/vault"
)

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
