package daemon_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/repo"
)

// TestPinningServiceAPI: with donor.pinning_listen set, a node serves the
// IPFS Pinning Service API to clients with a token it issued; a pin
// request makes it fetch the DAG from another node and pin it.
func TestPinningServiceAPI(t *testing.T) {
	ctx := t.Context()
	owner, oc := start(t)
	data := make([]byte, 600<<10)
	rand.Read(data)
	added, err := oc.Add(ctx, api.ContentFile, bytes.NewReader(data), true)
	if err != nil {
		t.Fatal(err)
	}
	cfg := loopbackConfig()
	cfg.Donor.Only = true
	cfg.Donor.PinningListen = "127.0.0.1:0"
	ai := owner.Node().AddrInfo()
	cfg.Network.Peers = []string{ai.Addrs[0].String() + "/p2p/" + ai.ID.String()}
	r, err := repo.Init(t.TempDir(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, dc := startRepo(t, r)
	tok, err := dc.DonorPinningToken(ctx, "kubo")
	if err != nil {
		t.Fatal(err)
	}
	if ts, err := dc.DonorPinningTokens(ctx); err != nil || len(ts) != 1 || ts[0].ID != tok.ID || ts[0].Name != "kubo" || ts[0].Token != "" {
		t.Fatalf("tokens listed: %+v, %v", ts, err)
	}
	do := func(method, path, token string, body []byte) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, tok.Endpoint+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, _ := do("GET", "/pins", "wrong", nil); code != http.StatusUnauthorized {
		t.Fatalf("GET /pins with a wrong token: %d", code)
	}
	body, _ := json.Marshal(map[string]any{"cid": added.CID, "name": "file"})
	code, st := do("POST", "/pins", tok.Token, body)
	if code != http.StatusAccepted {
		t.Fatalf("POST /pins: %d %v", code, st)
	}
	id := st["requestid"].(string)
	waitUntil(t, 20*time.Second, "the node pins what was asked", func() bool {
		_, st := do("GET", "/pins/"+id, tok.Token, nil)
		if st["status"] == "failed" {
			t.Fatalf("the pin failed: %v", st)
		}
		return st["status"] == "pinned"
	})
	pins, err := dc.PinLs(ctx)
	if err != nil || !slices.ContainsFunc(pins, func(p api.Pin) bool { return p.CID == added.CID }) {
		t.Fatalf("the node's pins %v (%v) lack %s", pins, err, added.CID)
	}
	if _, err := dc.DonorPinningRevoke(ctx, "nope"); err == nil || !strings.Contains(err.Error(), "no such pinning token") {
		t.Fatalf("revoking no token: %v", err)
	}
	if _, err := dc.DonorPinningRevoke(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := do("GET", "/pins/"+id, tok.Token, nil); code != http.StatusUnauthorized {
		t.Fatalf("a revoked token: %d", code)
	}
}

// TestRemotePinning: an owner keeps its account pinned at a Pinning
// Service API endpoint (here a donor's): the newest root is asked for,
// fetched from the owner, pinned, and replaced by the next root.
func TestRemotePinning(t *testing.T) {
	ctx := t.Context()
	_, oc := start(t)
	cfg := loopbackConfig()
	cfg.Donor.Only = true
	cfg.Donor.PinningListen = "127.0.0.1:0"
	r, err := repo.Init(t.TempDir(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, dc := startRepo(t, r)
	tok, err := dc.DonorPinningToken(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oc.RemotePinAdd(ctx, "pi", "ftp://nope", tok.Token); err == nil {
		t.Fatal("a service of an ftp URL was taken")
	}
	if _, err := oc.RemotePinAdd(ctx, "pi", tok.Endpoint, tok.Token); err != nil {
		t.Fatal(err)
	}
	// rootPinned waits until the account's published root, other than
	// not, is pinned at the service.
	rootPinned := func(what, not string) string {
		t.Helper()
		var root string
		var last api.RemotePin
		defer func() {
			if t.Failed() {
				t.Logf("last: %+v, root %s", last, root)
				req, _ := http.NewRequest("GET", tok.Endpoint+"/pins?status=queued,pinning,pinned,failed", nil)
				req.Header.Set("Authorization", "Bearer "+tok.Token)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					b, _ := io.ReadAll(resp.Body)
					t.Logf("service: %s", b)
				}
			}
		}()
		waitUntil(t, 30*time.Second, what, func() bool {
			st, err := oc.Status(ctx)
			if err != nil || st.LastPublish == nil {
				return false
			}
			list, err := oc.RemotePins(ctx)
			if err != nil || len(list) != 1 {
				t.Fatalf("remote pins %v, %v", list, err)
			}
			root = st.LastPublish.Root
			last = list[0]
			return root != not && list[0].Root == root && list[0].Status == "pinned"
		})
		pins, err := dc.PinLs(ctx)
		if err != nil || !slices.ContainsFunc(pins, func(p api.Pin) bool { return p.CID == root }) {
			t.Fatalf("the service's pins %v (%v) lack the account root %s", pins, err, root)
		}
		return root
	}
	add := func(name string) {
		t.Helper()
		f := filepath.Join(t.TempDir(), name)
		os.WriteFile(f, []byte("written as "+name), 0o644)
		if _, err := oc.VaultAdd(ctx, "/", []string{f}, nil); err != nil {
			t.Fatal(err)
		}
	}
	add("first.txt")
	first := rootPinned("the account root is pinned at the service", "")
	add("later.txt")
	rootPinned("the next root replaces the first at the service", first)
	if pins, _ := dc.PinLs(ctx); slices.ContainsFunc(pins, func(p api.Pin) bool { return p.CID == first }) {
		t.Fatal("the replaced root is still pinned at the service")
	}
}
