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
	"slices"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/vault"
)

type storedShare struct {
	Secret  []byte `cbor:"secret"`
	Path    string `cbor:"path"`
	Made    int64  `cbor:"made"`
	Expires int64  `cbor:"expires"`
	Ended   int64  `cbor:"ended"`
	Version []byte `cbor:"version,omitempty"`
	VKey    []byte `cbor:"vkey,omitempty"`
}

func (e storedShare) share() (vault.FollowShare, bool) {
	if len(e.Secret) != 32 {
		return vault.FollowShare{}, false
	}
	f := vault.FollowShare{Path: e.Path, Made: e.Made, Expires: e.Expires, Ended: e.Ended}
	copy(f.Secret[:], e.Secret)
	if e.Version != nil {
		c, err := cid.Cast(e.Version)
		if err != nil || len(e.VKey) != 32 {
			return vault.FollowShare{}, false
		}
		f.Version = c
		copy(f.VersionKey[:], e.VKey)
	}
	return f, true
}

func stored(f vault.FollowShare) storedShare {
	e := storedShare{Secret: f.Secret[:], Path: f.Path, Made: f.Made, Expires: f.Expires, Ended: f.Ended}
	if f.Version.Defined() {
		e.Version, e.VKey = f.Version.Bytes(), f.VersionKey[:]
	}
	return e
}

func (s *State) sortedTags() [][16]byte {
	tags := make([][16]byte, 0, len(s.shares))
	for t := range s.shares {
		tags = append(tags, t)
	}
	slices.SortFunc(tags, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	return tags
}

// IsShareID reports whether s is a share ID's text (32 hex digits).
func IsShareID(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 16
}

// ShareID is the text form of a share's tag, what 'peer shares' shows.
func ShareID(secret [32]byte) string {
	t := vault.ShareTag(secret)
	return hex.EncodeToString(t[:])
}

// NewSecret makes a share's secret, from r (crypto/rand's Reader when
// nil).
func NewSecret(r io.Reader) (secret [32]byte, err error) {
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, secret[:]); err != nil {
		return secret, fmt.Errorf("failed to make a share secret: %w", err)
	}
	return secret, nil
}

// Add makes a following share of path, expiring after expires (0:
// never), and returns it. r is crypto/rand's Reader when nil.
func (s *State) Add(ctx context.Context, r io.Reader, path string, expires time.Duration) (vault.FollowShare, error) {
	secret, err := NewSecret(r)
	if err != nil {
		return vault.FollowShare{}, err
	}
	f := vault.FollowShare{Secret: secret, Path: path, Made: s.now().UnixNano()}
	if expires > 0 {
		f.Expires = f.Made + int64(expires)
	}
	return f, s.insert(ctx, f)
}

// AddVersion keeps the share behind a version link to a folder: copy is
// the folder at path as vault.CopyFolder wrote it with secret. The
// account root lists it until it ends, so the owner's devices keep and
// serve the copy.
func (s *State) AddVersion(ctx context.Context, secret [32]byte, path string, copy vault.Entry) (vault.FollowShare, error) {
	f := vault.FollowShare{Secret: secret, Path: path, Made: s.now().UnixNano(), Version: copy.CID, VersionKey: copy.Key}
	return f, s.insert(ctx, f)
}

func (s *State) insert(ctx context.Context, f vault.FollowShare) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listed() >= MaxShares {
		return fmt.Errorf("this account lists %d shares and envelopes, the most a root holds (an ended share stays listed 90 days): end some with 'peer unshare'", MaxShares)
	}
	tag := vault.ShareTag(f.Secret)
	if _, ok := s.shares[tag]; ok {
		return errors.New("a share with this secret exists already")
	}
	s.shares[tag] = f
	if err := s.save(ctx); err != nil {
		delete(s.shares, tag)
		return err
	}
	return nil
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
	if !a.Version.Defined() && b.Version.Defined() {
		a.Version, a.VersionKey = b.Version, b.VersionKey // never differs either
	}
	return a
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
