package ipfsfile_test

import (
	"archive/tar"
	"bytes"
	"context"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	bstore "github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/peer-cloud/peer/ipfsfile"
)

// memFetcher reads from an in-memory DAG, fetching blocks one by one.
type memFetcher struct{ dag ipld.DAGService }

func (m memFetcher) DAG() ipld.DAGService { return m.dag }
func (m memFetcher) FetchOrdered(ctx context.Context, keys <-chan cid.Cid, fn func(blocks.Block) error) error {
	for k := range keys {
		nd, err := m.dag.Get(ctx, k)
		if err != nil {
			return err
		}
		if err := fn(nd); err != nil {
			return err
		}
	}
	return nil
}

func memDAG() ipld.DAGService {
	bs := bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	return merkledag.NewDAGService(blockservice.New(bs, nil))
}

type entry struct {
	name string
	dir  bool
	body string
}

func makeTar(t testing.TB, es []entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if e.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	return buf.Bytes()
}

func TestTarRoundTrip(t *testing.T) {
	ctx := context.Background()
	dag := memDAG()
	in := makeTar(t, []entry{
		{name: "top/", dir: true},
		{name: "top/a.txt", body: "alpha"},
		{name: "top/sub/", dir: true},
		{name: "top/sub/b.txt", body: string(bytes.Repeat([]byte("b"), 3<<20))},
		{name: "top/empty/", dir: true},
	})
	nd, err := ipfsfile.AddTar(ctx, dag, tar.NewReader(bytes.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	if err := ipfsfile.WriteTar(ctx, memFetcher{dag}, nd.Cid(), "x", tw); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	got := map[string]string{}
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		var b bytes.Buffer
		b.ReadFrom(tr)
		got[h.Name] = b.String()
	}
	want := map[string]string{"x/": "", "x/a.txt": "alpha", "x/empty/": "", "x/sub/": "", "x/sub/b.txt": string(bytes.Repeat([]byte("b"), 3<<20))}
	if len(got) != len(want) {
		t.Fatalf("exported %d entries; want %d: %v", len(got), len(want), keys(got))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("entry %s differs", k)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTarRefusesEscapes(t *testing.T) {
	for _, name := range []string{"../evil", "/abs", "top/../../x"} {
		in := makeTar(t, []entry{{name: name, body: "x"}})
		if _, err := ipfsfile.AddTar(context.Background(), memDAG(), tar.NewReader(bytes.NewReader(in))); err == nil {
			t.Errorf("AddTar accepted %q", name)
		}
	}
	in := makeTar(t, []entry{{name: "a", body: "x"}, {name: "b", body: "y"}})
	if _, err := ipfsfile.AddTar(context.Background(), memDAG(), tar.NewReader(bytes.NewReader(in))); err == nil {
		t.Error("AddTar accepted two top-level entries")
	}
}

// FuzzAddTar: uploads come from the network; any bytes give a DAG or an
// error, never a panic.
func FuzzAddTar(f *testing.F) {
	f.Add(makeTar(f, []entry{{name: "top/", dir: true}, {name: "top/a", body: "a"}}))
	f.Add(makeTar(f, []entry{{name: "../x", body: "a"}}))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ipfsfile.AddTar(context.Background(), memDAG(), tar.NewReader(bytes.NewReader(b)))
	})
}
