package pinsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// setPinner pins into a set; fail makes Pin fail for that CID.
type setPinner struct {
	mu     sync.Mutex
	pinned map[cid.Cid]bool
	fail   cid.Cid
}

func (p *setPinner) Pin(_ context.Context, c cid.Cid, _ []string) error {
	if c == p.fail {
		return errors.New("no peer has it")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pinned[c] = true
	return nil
}

func (p *setPinner) Unpin(_ context.Context, c cid.Cid) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.pinned, c)
	return nil
}

func (p *setPinner) has(c cid.Cid) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pinned[c]
}

func TestPinningService(t *testing.T) {
	ctx := context.Background()
	d := dssync.MutexWrap(ds.NewMapDatastore())
	pn := &setPinner{pinned: map[cid.Cid]bool{}, fail: blocks.NewBlock([]byte("nobody")).Cid()}
	cfg := Config{Datastore: d, Pinner: pn, Delegates: func() []string {
		return []string{"/ip4/10.0.0.1/tcp/4010/p2p/12D3KooWGRUVh9HnjUj8KJDyqJ1dCQ8tfn6Ho1RoyAHGVt3U7nVP"}
	}}
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, issued, err := s.NewToken(ctx, "kubo at home")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.NewToken(ctx, "bad\nname"); err == nil {
		t.Fatal("a token name with a newline was taken")
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	do := func(method, path, token string, body any) (int, map[string]any) {
		t.Helper()
		var rd *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequest(method, srv.URL+path, rd)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, _ := do("GET", "/pins", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", code)
	}
	if code, _ := do("GET", "/pins", "peer-pin-wrong", nil); code != http.StatusUnauthorized {
		t.Fatalf("with a wrong token: %d", code)
	}
	good := blocks.NewBlock([]byte("wanted")).Cid()
	code, st := do("POST", "/pins", tok, Pin{CID: good.String(), Name: "photos"})
	if code != http.StatusAccepted || st["requestid"] == "" || len(st["delegates"].([]any)) != 1 {
		t.Fatalf("POST /pins: %d %v", code, st)
	}
	id := st["requestid"].(string)
	wait := func(id, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, st := do("GET", "/pins/"+id, tok, nil)
			if st["status"] == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("request %s is %v, not %s", id, st["status"], want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait(id, StatusPinned)
	if !pn.has(good) {
		t.Fatal("pinned, says the service, but not pinned")
	}
	_, bad := do("POST", "/pins", tok, Pin{CID: pn.fail.String()})
	wait(bad["requestid"].(string), StatusFailed)
	if code, _ := do("POST", "/pins", tok, Pin{CID: "not a cid"}); code != http.StatusBadRequest {
		t.Fatalf("a bad CID: %d", code)
	}
	// Listing: pinned by default, by name, by status.
	if _, l := do("GET", "/pins", tok, nil); l["count"].(float64) != 1 {
		t.Fatalf("GET /pins: %v", l)
	}
	if _, l := do("GET", "/pins?status=failed,pinned&name=PHOTOS&match=iexact", tok, nil); l["count"].(float64) != 1 {
		t.Fatalf("GET /pins by name: %v", l)
	}
	// State survives a restart; delete unpins.
	s.Close()
	s2, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s2.Handler()
	if code, st := do("GET", "/pins/"+id, tok, nil); code != 200 || st["status"] != StatusPinned {
		t.Fatalf("after a restart: %d %v", code, st)
	}
	if code, _ := do("DELETE", "/pins/"+id, tok, nil); code != http.StatusAccepted {
		t.Fatalf("DELETE: %d", code)
	}
	if pn.has(good) {
		t.Fatal("a deleted request's DAG is still pinned")
	}
	if code, _ := do("GET", "/pins/"+id, tok, nil); code != http.StatusNotFound {
		t.Fatalf("GET a deleted request: %d", code)
	}
	// Tokens: listed by ID and name; a revoked one is refused, also after
	// a restart, and another still works.
	other, _, err := s2.NewToken(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if ts := s2.Tokens(); len(ts) != 2 || ts[0].ID != issued.ID || ts[0].Name != "kubo at home" || ts[0].Issued.IsZero() {
		t.Fatalf("tokens: %+v", ts)
	}
	if _, err := s2.Revoke(ctx, "nope"); !errors.Is(err, ErrNoToken) {
		t.Fatalf("revoking no token: %v", err)
	}
	if _, err := s2.Revoke(ctx, issued.ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := do("GET", "/pins", tok, nil); code != http.StatusUnauthorized {
		t.Fatalf("a revoked token: %d", code)
	}
	s2.Close()
	s3, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	srv.Config.Handler = s3.Handler()
	if code, _ := do("GET", "/pins", tok, nil); code != http.StatusUnauthorized {
		t.Fatalf("a revoked token after a restart: %d", code)
	}
	if code, _ := do("GET", "/pins", other, nil); code != http.StatusOK {
		t.Fatalf("the other token after a restart: %d", code)
	}
	if _, err := s3.Revoke(ctx, other); err != nil || len(s3.Tokens()) != 0 {
		t.Fatalf("revoking by the token itself: %v, %d left", err, len(s3.Tokens()))
	}
}

// TestTokensOldFormat: tokens kept as a list of hashes (before they had
// names) still read, and still authorize.
func TestTokensOldFormat(t *testing.T) {
	ctx := context.Background()
	d := dssync.MutexWrap(ds.NewMapDatastore())
	tok := "peer-pin-0123"
	b, _ := json.Marshal([]string{hashToken(tok)})
	if err := d.Put(ctx, tokensKey, b); err != nil {
		t.Fatal(err)
	}
	s, err := Start(ctx, Config{Datastore: d, Pinner: &setPinner{pinned: map[cid.Cid]bool{}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := s.Tokens()
	if len(ts) != 1 || ts[0].ID != hashToken(tok)[:12] {
		t.Fatalf("tokens of the old format: %+v", ts)
	}
	r := httptest.NewRequest("GET", "/pins", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if !s.authorized(r) {
		t.Fatal("a token of the old format is refused")
	}
	if err := d.Put(ctx, tokensKey, []byte("{")); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(ctx, Config{Datastore: d, Pinner: &setPinner{pinned: map[cid.Cid]bool{}}}); err == nil {
		t.Fatal("damaged tokens were taken")
	}
}
