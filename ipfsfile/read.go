package ipfsfile

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Fetcher gets blocks, from the local store or from peers.
type Fetcher interface {
	// DAG returns a DAG service that fetches missing nodes.
	DAG() ipld.DAGService
	// FetchOrdered fetches the blocks named on keys, many ahead, and calls
	// fn on each in the order of keys.
	FetchOrdered(ctx context.Context, keys <-chan cid.Cid, fn func(blocks.Block) error) error
}

// Kind is what a UnixFS node holds.
type Kind string

// The kinds of UnixFS node that Stat reports.
const (
	KindFile    Kind = "file"
	KindDir     Kind = "directory"
	KindSymlink Kind = "symlink"
)

// Info describes a UnixFS node.
type Info struct {
	CID  cid.Cid `json:"cid"`
	Kind Kind    `json:"type"`
	// Size is the file's length; for a folder, the bytes of its DAG.
	Size uint64 `json:"size"`
}

// Stat reads the root of a UnixFS DAG.
func Stat(ctx context.Context, ng ipld.NodeGetter, c cid.Cid) (Info, ipld.Node, error) {
	nd, err := ng.Get(ctx, c)
	if err != nil {
		return Info{}, nil, fmt.Errorf("failed to get %s: %w", c, err)
	}
	info, err := Describe(nd)
	if err != nil {
		return Info{}, nil, err
	}
	return info, nd, nil
}

// Describe says what the UnixFS node nd holds.
func Describe(nd ipld.Node) (Info, error) {
	c := nd.Cid()
	info := Info{CID: c, Kind: KindFile}
	switch n := nd.(type) {
	case *merkledag.RawNode:
		info.Size = uint64(len(n.RawData()))
	case *merkledag.ProtoNode:
		fs, err := ft.FSNodeFromBytes(n.Data())
		if err != nil {
			return Info{}, fmt.Errorf("failed to read %s: not a UnixFS node: %w", c, err)
		}
		switch fs.Type() {
		case ft.TFile, ft.TRaw:
			info.Size = fs.FileSize()
		case ft.TDirectory, ft.THAMTShard:
			info.Kind = KindDir
			info.Size, _ = n.Size()
		case ft.TSymlink:
			info.Kind = KindSymlink
			info.Size = uint64(len(fs.Data()))
		default:
			return Info{}, fmt.Errorf("failed to read %s: UnixFS type %s is not supported", c, fs.Type())
		}
	default:
		return Info{}, fmt.Errorf("failed to read %s: codec 0x%x is not UnixFS", c, c.Prefix().Codec)
	}
	return info, nil
}

// WriteFile writes the content of the UnixFS file nd to w. The leaves are
// fetched through f.FetchOrdered, many ahead of the one being written.
func WriteFile(ctx context.Context, f Fetcher, nd ipld.Node, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keys := make(chan cid.Cid, 256)
	listErr := make(chan error, 1)
	go func() {
		defer close(keys)
		listErr <- listLeaves(ctx, f.DAG(), nd, keys)
	}()
	fetchErr := f.FetchOrdered(ctx, keys, func(b blocks.Block) error {
		data, err := leafData(b)
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("failed to write: %w", err)
		}
		return nil
	})
	cancel()
	if err := <-listErr; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if fetchErr != nil {
		return fmt.Errorf("failed to read %s: %w", nd.Cid(), fetchErr)
	}
	return nil
}

// listLeaves sends, in file order, the CIDs of the blocks that hold the
// bytes of the file under nd: its leaves, and any inner node that carries
// data of its own (UnixFS puts a node's data before its children's). Raw
// children are known to be leaves; dag-pb children are fetched (all of a
// node's at once) to learn whether they have children of their own.
func listLeaves(ctx context.Context, ng ipld.NodeGetter, nd ipld.Node, out chan<- cid.Cid) error {
	send := func(c cid.Cid) error {
		select {
		case out <- c:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	links := nd.Links()
	if len(links) == 0 {
		return send(nd.Cid())
	}
	if pn, ok := nd.(*merkledag.ProtoNode); ok {
		fs, err := ft.FSNodeFromBytes(pn.Data())
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", nd.Cid(), err)
		}
		if len(fs.Data()) > 0 {
			if err := send(nd.Cid()); err != nil {
				return err
			}
		}
	}
	var inner []cid.Cid
	for _, l := range links {
		if l.Cid.Prefix().Codec != cid.Raw {
			inner = append(inner, l.Cid)
		}
	}
	children := map[cid.Cid]ipld.Node{}
	for opt := range ng.GetMany(ctx, inner) {
		if opt.Err != nil {
			return fmt.Errorf("failed to get node under %s: %w", nd.Cid(), opt.Err)
		}
		children[opt.Node.Cid()] = opt.Node
	}
	for _, l := range links {
		if l.Cid.Prefix().Codec == cid.Raw {
			if err := send(l.Cid); err != nil {
				return err
			}
			continue
		}
		child := children[l.Cid]
		if child == nil {
			return fmt.Errorf("failed to get node %s under %s", l.Cid, nd.Cid())
		}
		if err := listLeaves(ctx, ng, child, out); err != nil {
			return err
		}
	}
	return nil
}

// leafData returns the file bytes a block holds itself (not its
// children's).
func leafData(b blocks.Block) ([]byte, error) {
	switch b.Cid().Prefix().Codec {
	case cid.Raw:
		return b.RawData(), nil
	case cid.DagProtobuf:
		pn, err := merkledag.DecodeProtobuf(b.RawData())
		if err != nil {
			return nil, fmt.Errorf("failed to decode leaf %s: %w", b.Cid(), err)
		}
		fs, err := ft.FSNodeFromBytes(pn.Data())
		if err != nil {
			return nil, fmt.Errorf("failed to decode leaf %s: %w", b.Cid(), err)
		}
		return fs.Data(), nil
	}
	return nil, fmt.Errorf("leaf %s has codec 0x%x, not a UnixFS leaf", b.Cid(), b.Cid().Prefix().Codec)
}

// WriteTar writes the UnixFS DAG under c as a tar stream whose top-level
// entry is called name.
func WriteTar(ctx context.Context, f Fetcher, c cid.Cid, name string, tw *tar.Writer) error {
	info, nd, err := Stat(ctx, f.DAG(), c)
	if err != nil {
		return err
	}
	now := time.Now()
	switch info.Kind {
	case KindFile:
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(info.Size), ModTime: now}); err != nil {
			return fmt.Errorf("failed to write %s: %w", name, err)
		}
		return WriteFile(ctx, f, nd, tw)
	case KindSymlink:
		return fmt.Errorf("failed to export %s: symlinks are not exported", name)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now}); err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	dir, err := uio.NewDirectoryFromNode(f.DAG(), nd)
	if err != nil {
		return fmt.Errorf("failed to read folder %s: %w", c, err)
	}
	links, err := dir.Links(ctx)
	if err != nil {
		return fmt.Errorf("failed to list folder %s: %w", c, err)
	}
	for _, l := range links {
		if _, err := SplitName(l.Name); err != nil || path.Base(l.Name) != l.Name {
			return fmt.Errorf("failed to export folder %s: entry %q is not a plain name", c, l.Name)
		}
		if err := WriteTar(ctx, f, l.Cid, name+"/"+l.Name, tw); err != nil {
			return err
		}
	}
	return nil
}

// ErrNoEntry is wrapped by errors about a name a UnixFS folder does not
// hold.
var ErrNoEntry = errors.New("no such file or folder")

// Resolve follows names down the UnixFS folders from c and returns the
// node they lead to (c's own with no names).
func Resolve(ctx context.Context, dag ipld.DAGService, c cid.Cid, names []string) (ipld.Node, error) {
	nd, err := dag.Get(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("failed to get %s: %w", c, err)
	}
	for i, name := range names {
		info, err := Describe(nd)
		if err != nil {
			return nil, err
		}
		if info.Kind != KindDir {
			return nil, fmt.Errorf("/%s is a %s, it holds no %s: %w", path.Join(names[:i]...), info.Kind, name, ErrNoEntry)
		}
		dir, err := uio.NewDirectoryFromNode(dag, nd)
		if err != nil {
			return nil, fmt.Errorf("failed to read folder %s: %w", nd.Cid(), err)
		}
		if nd, err = dir.Find(ctx, name); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("/%s: %w", path.Join(names[:i+1]...), ErrNoEntry)
			}
			return nil, fmt.Errorf("failed to find /%s: %w", path.Join(names[:i+1]...), err)
		}
	}
	return nd, nil
}

// List lists the UnixFS folder nd: each entry's name, CID and what it
// holds (a file's size; a folder's, 0). An entry whose node cannot be
// fetched is listed as a file of size 0.
func List(ctx context.Context, dag ipld.DAGService, nd ipld.Node) ([]Entry, error) {
	dir, err := uio.NewDirectoryFromNode(dag, nd)
	if err != nil {
		return nil, fmt.Errorf("failed to read folder %s: %w", nd.Cid(), err)
	}
	links, err := dir.Links(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list folder %s: %w", nd.Cid(), err)
	}
	// The entries' nodes in one request (GetMany), not a round trip each.
	cs := make([]cid.Cid, len(links))
	for i, l := range links {
		cs[i] = l.Cid
	}
	infos := map[cid.Cid]Info{}
	for o := range dag.GetMany(ctx, cs) {
		if o.Err != nil {
			continue
		}
		if info, err := Describe(o.Node); err == nil {
			infos[o.Node.Cid()] = info
		}
	}
	out := make([]Entry, 0, len(links))
	for _, l := range links {
		e := Entry{Name: l.Name, CID: l.Cid, Kind: KindFile}
		if info, ok := infos[l.Cid]; ok {
			e.Kind = info.Kind
			if info.Kind == KindFile {
				e.Size = info.Size
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// Entry is a name in a UnixFS folder.
type Entry struct {
	Name string
	CID  cid.Cid
	Kind Kind
	Size uint64
}
