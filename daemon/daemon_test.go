package daemon_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"testing"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/daemon"
	"github.com/peer-cloud/peer/repo"
)

func start(t *testing.T) (*daemon.Daemon, *api.Client) {
	t.Helper()
	cfg := repo.DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	cfg.API.Listen = "127.0.0.1:0"
	// No account secret: the daemon makes the account, as for a repo from
	// before accounts.
	r, err := repo.Init(t.TempDir(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return startRepo(t, r)
}

// startRepo runs a daemon on an existing repo until the test ends.
func startRepo(t *testing.T, r *repo.Repo) (*daemon.Daemon, *api.Client) {
	t.Helper()
	d, err := daemon.Start(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return d, &api.Client{Base: d.APIURL(), Token: r.Token}
}

func TestAPIRefusesRequestsWithoutToken(t *testing.T) {
	d, _ := start(t)
	for _, tok := range []string{"", "Bearer wrong"} {
		req, _ := http.NewRequest(http.MethodGet, d.APIURL()+api.Version+"/id", nil)
		if tok != "" {
			req.Header.Set("Authorization", tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("token %q: status %d; want 401", tok, resp.StatusCode)
		}
	}
}

func TestAddCatPinGC(t *testing.T) {
	ctx := context.Background()
	d, c := start(t)
	id, err := c.ID(ctx)
	if err != nil || id.ID != d.Node().Host().ID().String() {
		t.Fatalf("id %+v, %v", id, err)
	}
	data := make([]byte, 3<<20+5)
	io.ReadFull(rand.Reader, data)
	added, err := c.Add(ctx, api.ContentFile, bytes.NewReader(data), true)
	if err != nil {
		t.Fatal(err)
	}
	if added.Size != uint64(len(data)) || added.Kind != "file" {
		t.Fatalf("added %+v", added)
	}
	body, err := c.Cat(ctx, added.CID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(body)
	body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("cat returned %d bytes (%v) that differ from the %d added", len(got), err, len(data))
	}
	if _, err := c.Cat(ctx, "not-a-cid"); err == nil {
		t.Fatal("cat of a malformed CID succeeded")
	}
	if err := c.PinRm(ctx, added.CID); err != nil {
		t.Fatal(err)
	}
	if err := c.PinRm(ctx, added.CID); err == nil {
		t.Fatal("second pin rm succeeded")
	}
	res, err := c.RepoGC(ctx)
	if err != nil || res.Removed != 5 {
		t.Fatalf("gc %+v, %v; want 5 blocks removed", res, err)
	}
}
