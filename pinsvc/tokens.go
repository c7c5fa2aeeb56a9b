package pinsvc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	ds "github.com/ipfs/go-datastore"
)

// Token is an issued bearer token as the node keeps it: never the token,
// only its hash.
type Token struct {
	// ID is the first 12 hex digits of the hash: what lists show and
	// what revoking takes.
	ID     string    `json:"id"`
	Hash   string    `json:"hash"` // SHA-256 of the token, hex
	Name   string    `json:"name,omitempty"`
	Issued time.Time `json:"issued"`
}

var tokensKey = ds.NewKey("/tokens")

// maxTokenName bounds a token's name.
const maxTokenName = 100

// ErrNoToken is returned for a token or ID that was never issued or was
// revoked.
var ErrNoToken = errors.New("no such pinning token: 'peer donate pinning-token ls' lists them")

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// loadTokens reads the tokens issued. Before they had names, the node
// kept a list of hashes; that still reads.
func (s *Service) loadTokens(ctx context.Context) error {
	b, err := s.cfg.Datastore.Get(ctx, tokensKey)
	if errors.Is(err, ds.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read the pinning service's tokens: %w", err)
	}
	var toks []Token
	if err := json.Unmarshal(b, &toks); err != nil {
		var hashes []string
		if json.Unmarshal(b, &hashes) != nil {
			return fmt.Errorf("failed to read the pinning service's tokens: %w", err)
		}
		toks = nil // what the first try left
		for _, h := range hashes {
			toks = append(toks, Token{Hash: h})
		}
	}
	for i, t := range toks {
		if len(t.Hash) != 64 {
			return fmt.Errorf("failed to read the pinning service's tokens: token %d has a hash of %d digits", i, len(t.Hash))
		}
		toks[i].ID = t.Hash[:12]
	}
	s.tokens = toks
	return nil
}

// saveTokens writes toks; the caller holds mu.
func (s *Service) saveTokens(ctx context.Context, toks []Token) error {
	b, err := json.Marshal(toks)
	if err != nil {
		return err
	}
	if err := s.cfg.Datastore.Put(ctx, tokensKey, b); err != nil {
		return fmt.Errorf("failed to keep the pinning tokens: %w", err)
	}
	if err := s.cfg.Datastore.Sync(ctx, tokensKey); err != nil {
		return fmt.Errorf("failed to keep the pinning tokens: %w", err)
	}
	s.tokens = toks
	return nil
}

// NewToken issues a bearer token for a client, named name (may be ""),
// and returns it with what the node keeps of it.
func (s *Service) NewToken(ctx context.Context, name string) (string, Token, error) {
	if len(name) > maxTokenName || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", Token{}, fmt.Errorf("a token's name is at most %d characters, without control characters", maxTokenName)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", Token{}, err
	}
	tok := "peer-pin-" + hex.EncodeToString(b)
	h := hashToken(tok)
	t := Token{ID: h[:12], Hash: h, Name: name, Issued: time.Now().UTC().Truncate(time.Second)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.saveTokens(ctx, append(slices.Clone(s.tokens), t)); err != nil {
		return "", Token{}, err
	}
	return tok, t, nil
}

// Tokens lists the tokens issued and not revoked, oldest first.
func (s *Service) Tokens() []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tokens)
}

// Revoke revokes the token whose ID, or which, is idOrToken: requests
// with it are refused from now on. What its clients pinned stays pinned.
func (s *Service) Revoke(ctx context.Context, idOrToken string) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := hashToken(idOrToken)
	i := slices.IndexFunc(s.tokens, func(t Token) bool { return t.ID == idOrToken || t.Hash == h })
	if i < 0 {
		return Token{}, ErrNoToken
	}
	t := s.tokens[i]
	if err := s.saveTokens(ctx, slices.Delete(slices.Clone(s.tokens), i, i+1)); err != nil {
		return Token{}, err
	}
	return t, nil
}

func (s *Service) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false
	}
	h := hashToken(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, t := range s.tokens {
		if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(h)) == 1 {
			found = true
		}
	}
	return found
}
