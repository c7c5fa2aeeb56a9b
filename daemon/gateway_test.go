package daemon_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"

	"github.com/peer-cloud/peer/api"
)

// gatewayGet fetches path from the daemon's gateway with no API token, as
// a stock IPFS tool would.
func gatewayGet(t *testing.T, base, path, accept string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestGateway: the daemon serves /ipfs/ and /ipns/ without the API token:
// a file `peer ipfs add` added, as its bytes and as a trustless CAR whose
// blocks match their CIDs; a raw block; the account's name to its root
// (an encrypted vault's root, in clear as the format says); while the API
// still wants its token.
func TestGateway(t *testing.T) {
	ctx := context.Background()
	d, c := start(t)
	data := make([]byte, 2<<20+7)
	io.ReadFull(rand.Reader, data)
	added, err := c.Add(ctx, api.ContentFile, bytes.NewReader(data), true)
	if err != nil {
		t.Fatal(err)
	}
	base := d.APIURL()
	if code, body := gatewayGet(t, base, "/ipfs/"+added.CID, ""); code != 200 || !bytes.Equal(body, data) {
		t.Fatalf("GET /ipfs/%s: %d, %d bytes; want 200 and the %d bytes added", added.CID, code, len(body), len(data))
	}
	code, car := gatewayGet(t, base, "/ipfs/"+added.CID, "application/vnd.ipld.car")
	if code != 200 {
		t.Fatalf("CAR of %s: %d %s", added.CID, code, car)
	}
	br, err := carv2.NewBlockReader(bytes.NewReader(car))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		b, err := br.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if got, err := b.Cid().Prefix().Sum(b.RawData()); err != nil || !got.Equals(b.Cid()) {
			t.Fatalf("the CAR's block %s does not match its CID", b.Cid())
		}
		n++
	}
	if n < 3 {
		t.Fatalf("the CAR of a 2 MiB file holds %d blocks; want the root and its chunks", n)
	}
	root, err := cid.Decode(added.CID)
	if err != nil {
		t.Fatal(err)
	}
	code, raw := gatewayGet(t, base, "/ipfs/"+added.CID+"?format=raw", "")
	if b, err := blocks.NewBlockWithCid(raw, root); code != 200 || err != nil {
		t.Fatalf("raw block: %d, %v", code, err)
	} else if got, _ := root.Prefix().Sum(b.RawData()); !got.Equals(root) {
		t.Fatal("the raw block does not match its CID")
	}

	// The account's name resolves to its root once it published one.
	p := filepath.Join(t.TempDir(), "note.txt")
	os.WriteFile(p, []byte("private"), 0o644)
	if _, err := c.VaultAdd(ctx, "/", []string{p}, nil); err != nil {
		t.Fatal(err)
	}
	acct, err := c.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var st api.Status
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		// The publication follows the change within milliseconds.
		if st, err = c.Status(ctx); err == nil && st.LastPublish != nil {
			break
		}
	}
	if st.LastPublish == nil {
		t.Fatal("the account was not published")
	}
	code, rb := gatewayGet(t, base, "/ipns/"+acct.Account+"?format=raw", "")
	if code != 200 {
		t.Fatalf("GET /ipns/%s: %d %s", acct.Account, code, rb)
	}
	if got, _ := cid.MustParse(st.LastPublish.Root).Prefix().Sum(rb); !got.Equals(cid.MustParse(st.LastPublish.Root)) {
		t.Fatalf("/ipns/%s is not the account root %s", acct.Account, st.LastPublish.Root)
	}
	if bytes.Contains(rb, []byte("private")) {
		t.Fatal("the account root holds the plaintext")
	}
	if code, _ := gatewayGet(t, base, "/ipns/example.com", ""); code == 200 {
		t.Fatal("a DNSLink name resolved; the gateway must ask no DNS server")
	}
	if code, _ := gatewayGet(t, base, "/api/v1/status", ""); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Fatalf("the API answered %d without its token", code)
	}
}

// TestCARExportImport: a DAG exported as a CAR from one node and imported
// into another, which is not connected to it, is stored whole and pinned
// there (its file reads back); a CAR with a block that does not match its
// CID is refused and pins nothing.
func TestCARExportImport(t *testing.T) {
	ctx := context.Background()
	_, a := start(t)
	_, b := start(t)
	data := make([]byte, 3<<20+1)
	io.ReadFull(rand.Reader, data)
	added, err := a.Add(ctx, api.ContentFile, bytes.NewReader(data), true)
	if err != nil {
		t.Fatal(err)
	}
	body, err := a.CARExport(ctx, added.CID)
	if err != nil {
		t.Fatal(err)
	}
	car, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(car)
	bad[len(bad)-10] ^= 1 // inside the last block's data
	if _, err := b.CARImport(ctx, bytes.NewReader(bad)); err == nil {
		t.Fatal("a CAR with a damaged block was imported")
	}
	if pins, err := b.PinLs(ctx); err != nil || len(pins) != 0 {
		t.Fatalf("after the refused import: pins %v, %v", pins, err)
	}
	res, err := b.CARImport(ctx, bytes.NewReader(car))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Roots) != 1 || res.Roots[0].CID != added.CID || res.Blocks < 4 {
		t.Fatalf("imported %+v; want root %s and the file's blocks", res, added.CID)
	}
	got, err := b.Cat(ctx, added.CID)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if back, err := io.ReadAll(got); err != nil || !bytes.Equal(back, data) {
		t.Fatalf("the imported file reads back as %d bytes, %v", len(back), err)
	}
}
