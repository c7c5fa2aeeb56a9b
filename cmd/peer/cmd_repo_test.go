package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	pin "github.com/ipfs/boxo/pinning/pinner"
	ds "github.com/ipfs/go-datastore"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/ipfsfile"
	"github.com/peer-cloud/peer/repo"
)

// TestRepoVerifyWithoutDaemon verifies a repo no daemon runs for (one
// with no api.addr, one whose api.addr a dead daemon left), before and
// after a pinned block goes missing.
func TestRepoVerifyWithoutDaemon(t *testing.T) {
	ctx := context.Background()
	r := testRepo(t)
	dir := r.Dir
	s, err := blockstore.Open(ctx, r.BlocksDir(), blockstore.ProfileDefault, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20)
	rand.Read(data)
	nd, err := ipfsfile.Add(ctx, s.DAG(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Pinner().PinWithMode(ctx, nd.Cid(), pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	leaf := nd.Links()[1].Cid
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runPeer(t, "--repo", dir, "repo", "verify")
	if code != 0 || !strings.Contains(out, "blocks checked  4 (3.0 MiB)") || !strings.Contains(out, "nothing damaged or missing") {
		t.Fatalf("intact repo: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	if s, err = blockstore.Open(ctx, r.BlocksDir(), blockstore.ProfileDefault, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Datastore().Delete(ctx, ds.NewKey("/blocks").Child(dshelp.MultihashToDsKey(leaf.Hash()))); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A dead daemon's address: nothing listens on port 1 of loopback.
	if err := os.WriteFile(filepath.Join(dir, repo.APIAddrFile), []byte("http://127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runPeer(t, "--repo", dir, "repo", "verify")
	if code != 1 || !strings.Contains(out, leaf.String()+"  not in the store (needed by "+nd.Cid().String()+")") {
		t.Fatalf("missing block: exit %d, stdout %q", code, out)
	}
	if want := "peer: 0 damaged and 1 missing blocks: fetch missing blocks again with 'peer ipfs pin add ROOT'"; !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("stderr %q; want one line starting %q", errOut, want)
	}

	code, out, _ = runPeer(t, "--repo", dir, "repo", "verify", "--json")
	var rep api.VerifyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	if code != 1 || rep.OK || rep.Blocks != 3 || len(rep.Missing) != 1 || rep.Missing[0].CID != leaf.String() || rep.Missing[0].Root != nd.Cid().String() {
		t.Fatalf("--json: exit %d, %+v", code, rep)
	}
}

// TestRepoVerifyAsksDaemon: with a daemon running (it holds the store, so
// opening it here would fail), verify asks the daemon.
func TestRepoVerifyAsksDaemon(t *testing.T) {
	r := testRepo(t)
	startDaemon(t, r)
	code, out, errOut := runPeer(t, "--repo", r.Dir, "repo", "verify")
	if code != 0 || !strings.Contains(out, "nothing damaged or missing") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
