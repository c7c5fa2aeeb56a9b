package ipfsfile_test

import (
	"bytes"
	"context"
	"testing"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/peer-cloud/peer/ipfsfile"
)

// TestWriteFileInnerData: a file whose inner node carries data of its own
// (allowed by UnixFS, written by some tools) reads back with that data
// before its children's.
func TestWriteFileInnerData(t *testing.T) {
	ctx := context.Background()
	dag := memDAG()
	tail := merkledag.NewRawNode([]byte("tail"))
	fs := ft.NewFSNode(ft.TFile)
	fs.SetData([]byte("head-"))
	fs.AddBlockSize(uint64(len("tail")))
	data, err := fs.GetBytes()
	if err != nil {
		t.Fatal(err)
	}
	root := merkledag.NodeWithData(data)
	if err := root.AddNodeLink("", tail); err != nil {
		t.Fatal(err)
	}
	if err := dag.AddMany(ctx, []ipld.Node{tail, root}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := ipfsfile.WriteFile(ctx, memFetcher{dag}, root, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "head-tail" {
		t.Fatalf("read %q; want %q", out.String(), "head-tail")
	}
}

// TestWriteFileDagPBLeaves: files from older tools (CIDv0, dag-pb leaves,
// 174 links per node, so two levels) read back whole.
func TestWriteFileDagPBLeaves(t *testing.T) {
	ctx := context.Background()
	dag := memDAG()
	want := bytes.Repeat([]byte("0123456789abcdef"), 200*1024/16*3) // 600 KiB in 1 KiB chunks
	db, err := (&helpers.DagBuilderParams{Dagserv: dag, Maxlinks: 174}).New(chunker.NewSizeSplitter(bytes.NewReader(want), 1024))
	if err != nil {
		t.Fatal(err)
	}
	root, err := balanced.Layout(db)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := ipfsfile.WriteFile(ctx, memFetcher{dag}, root, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("read %d bytes that differ from the %d added", out.Len(), len(want))
	}
}
