package ipfsfile

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	ipld "github.com/ipfs/go-ipld-format"
)

// ChunkSize is the size of a file's leaves.
const ChunkSize = 1 << 20

// LinksPerNode is the width of a file's internal nodes.
const LinksPerNode = 1024

var profile = uio.UnixFS_v1_2025

// Add imports the bytes of r as a UnixFS file and returns its root node.
// Blocks are written in batches for speed.
func Add(ctx context.Context, dag ipld.DAGService, r io.Reader) (ipld.Node, error) {
	batch := newBatch(ctx, dag)
	nd, err := addFile(batch, r)
	if err != nil {
		return nil, err
	}
	if err := batch.b.Commit(); err != nil {
		return nil, fmt.Errorf("failed to store file blocks: %w", err)
	}
	return nd, nil
}

func addFile(dag ipld.DAGService, r io.Reader) (ipld.Node, error) {
	p := helpers.DagBuilderParams{
		Dagserv:    dag,
		Maxlinks:   LinksPerNode,
		RawLeaves:  true,
		CidBuilder: profile.CidBuilder(),
	}
	db, err := p.New(chunker.NewSizeSplitter(r, ChunkSize))
	if err != nil {
		return nil, fmt.Errorf("failed to start import: %w", err)
	}
	nd, err := balanced.Layout(db)
	if err != nil {
		return nil, fmt.Errorf("failed to import file: %w", err)
	}
	return nd, nil
}

// ErrUnsupportedEntry reports a tar entry that AddTar cannot store.
var ErrUnsupportedEntry = errors.New("unsupported entry")

// AddTar imports a tar stream of one file or folder tree and returns the
// root node. All entries must sit under one top-level name; regular files
// and folders are stored, other entries (links, devices) are refused, so a
// stored tree never points outside itself.
func AddTar(ctx context.Context, dag ipld.DAGService, tr *tar.Reader) (ipld.Node, error) {
	batch := newBatch(ctx, dag)
	root := &dirEntry{children: map[string]*dirEntry{}}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("failed to read upload: %w", err)
		}
		parts, err := SplitName(h.Name)
		if err != nil {
			return nil, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			root.ensure(parts)
		case tar.TypeReg:
			nd, err := addFile(batch, tr)
			if err != nil {
				return nil, fmt.Errorf("failed to add %s: %w", h.Name, err)
			}
			e := root.ensure(parts)
			e.node, e.children = nd, nil
		default:
			return nil, fmt.Errorf("failed to add %s: %w (type %q): only files and folders can be added", h.Name, ErrUnsupportedEntry, h.Typeflag)
		}
	}
	if len(root.children) != 1 {
		return nil, fmt.Errorf("failed to add upload: it must hold exactly one top-level file or folder, not %d", len(root.children))
	}
	var top *dirEntry
	for _, e := range root.children {
		top = e
	}
	if err := batch.b.Commit(); err != nil {
		return nil, fmt.Errorf("failed to store file blocks: %w", err)
	}
	return top.build(ctx, dag)
}

// SplitName splits a slash-separated relative name into its elements, or
// returns an error if the name is absolute, empty, holds a NUL, or would
// leave its folder (".." after cleaning). Uploads and downloads both use it.
func SplitName(name string) ([]string, error) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if name == "" || path.IsAbs(name) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") || strings.ContainsRune(name, 0) {
		return nil, fmt.Errorf("failed to add %q: names must be relative and stay inside the folder", name)
	}
	return strings.Split(clean, "/"), nil
}

// dirEntry is a node of the tree being built from a tar stream: a file
// (node set) or a folder (children set).
type dirEntry struct {
	node     ipld.Node
	children map[string]*dirEntry
}

func (d *dirEntry) ensure(parts []string) *dirEntry {
	e := d
	for _, p := range parts {
		if e.children == nil {
			e.children, e.node = map[string]*dirEntry{}, nil
		}
		c := e.children[p]
		if c == nil {
			c = &dirEntry{children: map[string]*dirEntry{}}
			e.children[p] = c
		}
		e = c
	}
	return e
}

func (d *dirEntry) build(ctx context.Context, dag ipld.DAGService) (ipld.Node, error) {
	if d.children == nil {
		return d.node, nil
	}
	dir, err := uio.NewDirectory(dag, uio.WithCidBuilder(profile.CidBuilder()))
	if err != nil {
		return nil, fmt.Errorf("failed to create folder: %w", err)
	}
	names := make([]string, 0, len(d.children))
	for n := range d.children {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		nd, err := d.children[n].build(ctx, dag)
		if err != nil {
			return nil, err
		}
		if err := dir.AddChild(ctx, n, nd); err != nil {
			return nil, fmt.Errorf("failed to add %s to folder: %w", n, err)
		}
	}
	nd, err := dir.GetNode()
	if err != nil {
		return nil, fmt.Errorf("failed to encode folder: %w", err)
	}
	if err := dag.Add(ctx, nd); err != nil {
		return nil, fmt.Errorf("failed to store folder: %w", err)
	}
	return nd, nil
}

// batchDAG writes nodes in large batches (one Badger transaction per 64
// MiB) instead of one by one; reads go to the DAG service.
type batchDAG struct {
	ipld.DAGService
	b *ipld.Batch
}

func newBatch(ctx context.Context, dag ipld.DAGService) *batchDAG {
	return &batchDAG{DAGService: dag, b: ipld.NewBatch(ctx, dag, ipld.MaxSizeBatchOption(64<<20), ipld.MaxNodesBatchOption(256))}
}

func (d *batchDAG) Add(ctx context.Context, nd ipld.Node) error { return d.b.Add(ctx, nd) }
func (d *batchDAG) AddMany(ctx context.Context, nds []ipld.Node) error {
	return d.b.AddMany(ctx, nds)
}
