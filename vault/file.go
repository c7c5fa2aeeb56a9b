package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"golang.org/x/sync/errgroup"
)

// fanout is the most links a file or part node holds.
const fanout = 4096

// maxDepth bounds the part tree (4096^8 chunks is far beyond any file).
const maxDepth = 8

// fileNode is a file version as stored (SPEC.md, "File version").
type fileNode struct {
	Type  string   `cbor:"type"`
	V     int      `cbor:"v"`
	Kid   []byte   `cbor:"kid"`
	Prev  *Link    `cbor:"prev,omitempty"`
	Links []Link   `cbor:"links"`
	To    []Stanza `cbor:"to,omitempty"`
	Body  []byte   `cbor:"body"`
}

// fileBody is a file version's sealed body.
type fileBody struct {
	Name   string      `cbor:"name"`
	Size   uint64      `cbor:"size"`
	Mode   uint32      `cbor:"mode"`
	Mtime  int64       `cbor:"mtime"`
	Time   int64       `cbor:"time"`
	Device string      `cbor:"device"`
	Hash   []byte      `cbor:"hash"`
	Depth  int         `cbor:"depth"`
	Parts  []partEntry `cbor:"parts"`
}

// partNode holds part of a large file's chunk list.
type partNode struct {
	Type  string `cbor:"type"`
	V     int    `cbor:"v"`
	Links []Link `cbor:"links"`
	Body  []byte `cbor:"body"`
}

type partBody struct {
	Depth int         `cbor:"depth"`
	Parts []partEntry `cbor:"parts"`
}

// partEntry describes one link of a file or part node: the plaintext bytes
// below it and, for a chunk, the chunk's key.
type partEntry struct {
	Size uint64 `cbor:"size"`
	Key  []byte `cbor:"key,omitempty"`
}

// FileInput is what a new file version says besides its content.
type FileInput struct {
	Name  string
	Mode  uint32
	Mtime int64   // unix nanoseconds
	Prev  cid.Cid // the version this one follows, if any
	To    [][32]byte
}

// FileVersion is a decoded file version.
type FileVersion struct {
	CID    cid.Cid
	Key    [32]byte
	Prev   cid.Cid
	Name   string
	Size   uint64
	Mode   uint32
	Mtime  int64
	Time   int64
	Device string
	Hash   [32]byte
	depth  int
	links  []Link
	parts  []partEntry
	// byID: opened by its ID alone (OpenFile), not reached through the
	// account's tree, so it may be a forgery whose chunks only their
	// plaintexts can tell apart: every chunk read is checked.
	byID bool
	// ep is the key epoch whose file secret the key is derived from; nil
	// for a key of someone else's (shared with this account).
	ep *epochKeys
}

type leaf struct {
	c    cid.Cid
	size uint64
	key  [32]byte
}

// WriteFile chunks, seals and stores r as a new file version and returns
// it. Chunks are hashed and sealed by several workers while earlier ones
// are written in batches.
func (v *Vault) WriteFile(ctx context.Context, r io.Reader, in FileInput) (*FileVersion, error) {
	if err := checkName(in.Name); err != nil {
		return nil, err
	}
	// One key epoch for the whole version: its chunk keys, id and key
	// must agree (a rotation may land meanwhile).
	ep := v.acct.cur()
	// Small files (most of a typical tree) skip the pipeline: its
	// goroutines and channels cost more than sealing a few chunks.
	var head bytes.Buffer
	n, err := io.CopyN(&head, r, smallFile+1)
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("failed to read %s: %w", in.Name, err)
	case n <= smallFile:
		return v.writeSmall(ctx, ep, head.Bytes(), in)
	}
	return v.writeLarge(ctx, ep, io.MultiReader(&head, r), in)
}

// smallFile is the size up to which a file is sealed in the caller's
// goroutine.
const smallFile = 2 * ChunkMax

// writeSmall seals and stores a file held in memory.
func (v *Vault) writeSmall(ctx context.Context, ep *epochKeys, data []byte, in FileInput) (*FileVersion, error) {
	var leaves []leaf
	var blks []blocks.Block
	for rest := data; len(rest) > 0; {
		k := cut(rest)
		buf := append(v.getBuf(), rest[:k]...)
		rest = rest[k:]
		key := ep.chunkKey(buf)
		blk, err := newBlock(rawPrefix, sealChunk(&key, buf))
		if err != nil {
			return nil, err
		}
		leaves = append(leaves, leaf{blk.Cid(), uint64(k), key})
		blks = append(blks, blk)
	}
	if len(blks) > 0 {
		if err := v.blocks.Put(ctx, blks); err != nil {
			return nil, fmt.Errorf("failed to store %s: %w", in.Name, err)
		}
		for _, b := range blks {
			v.putBuf(b.RawData())
		}
	}
	return v.writeVersion(ctx, ep, in, leaves, uint64(len(data)), contentHash(leaves))
}

// writeLarge runs the chunking pipeline over r.
func (v *Vault) writeLarge(ctx context.Context, ep *epochKeys, r io.Reader, in FileInput) (*FileVersion, error) {
	g, gctx := errgroup.WithContext(ctx)
	type job struct {
		seq int
		buf []byte
	}
	type done struct {
		seq int
		leaf
		blk blocks.Block
	}
	jobs := make(chan job, v.workers)
	results := make(chan done, 2*v.workers)
	batches := make(chan []blocks.Block, 1)
	var size uint64

	g.Go(func() error {
		defer close(jobs)
		ch := newChunker(r)
		for seq := 0; ; seq++ {
			buf, err := ch.next(v.getBuf())
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("failed to read %s: %w", in.Name, err)
			}
			size += uint64(len(buf))
			select {
			case jobs <- job{seq, buf}:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
	})
	var wg sync.WaitGroup
	for range v.workers {
		wg.Add(1)
		g.Go(func() error {
			defer wg.Done()
			for j := range jobs {
				key := ep.chunkKey(j.buf)
				n := len(j.buf)
				blk, err := newBlock(rawPrefix, sealChunk(&key, j.buf))
				if err != nil {
					return err
				}
				select {
				case results <- done{j.seq, leaf{blk.Cid(), uint64(n), key}, blk}:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	go func() { wg.Wait(); close(results) }()
	var leaves []leaf
	g.Go(func() error {
		defer close(batches)
		var batch []blocks.Block
		bytes := 0
		for d := range results {
			for len(leaves) <= d.seq {
				leaves = append(leaves, leaf{})
			}
			leaves[d.seq] = d.leaf
			batch = append(batch, d.blk)
			bytes += len(d.blk.RawData())
			if bytes >= v.batch {
				select {
				case batches <- batch:
				case <-gctx.Done():
					return gctx.Err()
				}
				batch, bytes = nil, 0
			}
		}
		if len(batch) > 0 {
			select {
			case batches <- batch:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	// Two writers keep the store's own writer busy: one batch is queued
	// while the other is written.
	for range 2 {
		g.Go(func() error {
			for b := range batches {
				if err := v.blocks.Put(gctx, b); err != nil {
					return fmt.Errorf("failed to store chunks of %s: %w", in.Name, err)
				}
				// The store has copied the blocks; their buffers are free.
				for _, blk := range b {
					v.putBuf(blk.RawData())
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return v.writeVersion(ctx, ep, in, leaves, size, contentHash(leaves))
}

// writeVersion builds the part tree over leaves, seals and stores it with
// the version node.
func (v *Vault) writeVersion(ctx context.Context, ep *epochKeys, in FileInput, leaves []leaf, size uint64, hash [32]byte) (*FileVersion, error) {
	kid := ep.fileID(hash)
	fv := &FileVersion{
		ep: ep, Key: ep.fileKey(kid), Prev: in.Prev, Name: in.Name, Size: size, Mode: in.Mode,
		Mtime: in.Mtime, Time: v.now().UnixNano(), Device: v.device, Hash: hash,
	}
	links := make([]Link, len(leaves))
	parts := make([]partEntry, len(leaves))
	for i, l := range leaves {
		links[i] = Link{l.c}
		parts[i] = partEntry{Size: l.size, Key: append([]byte(nil), l.key[:]...)}
	}
	var out []blocks.Block
	depth := 0
	for len(links) > v.fanout {
		if depth == maxDepth {
			return nil, fmt.Errorf("failed to store %s: too large", in.Name)
		}
		var nl []Link
		var np []partEntry
		for i := 0; i < len(links); i += v.fanout {
			j := min(i+v.fanout, len(links))
			blk, err := v.sealNode(&fv.Key, adPart, partBody{Depth: depth, Parts: parts[i:j]}, func(body []byte) bodiless {
				return partNode{Type: "part", V: 1, Links: links[i:j], Body: body}
			})
			if err != nil {
				return nil, fmt.Errorf("failed to seal part of %s: %w", in.Name, err)
			}
			var sum uint64
			for _, p := range parts[i:j] {
				sum += p.Size
			}
			out = append(out, blk)
			nl = append(nl, Link{blk.Cid()})
			np = append(np, partEntry{Size: sum})
		}
		links, parts = nl, np
		depth++
	}
	fv.depth, fv.links, fv.parts = depth, links, parts
	blk, err := v.sealVersion(fv, kid, in.To)
	if err != nil {
		return nil, err
	}
	out = append(out, blk)
	if err := v.blocks.Put(ctx, out); err != nil {
		return nil, fmt.Errorf("failed to store %s: %w", in.Name, err)
	}
	fv.CID = blk.Cid()
	return fv, nil
}

// sealVersion makes the version node of fv, whose parts are in place.
func (v *Vault) sealVersion(fv *FileVersion, kid []byte, recipients [][32]byte) (blocks.Block, error) {
	body := fileBody{
		Name: fv.Name, Size: fv.Size, Mode: fv.Mode, Mtime: fv.Mtime, Time: fv.Time,
		Device: fv.Device, Hash: fv.Hash[:], Depth: fv.depth, Parts: fv.parts,
	}
	var to []Stanza
	for _, pub := range recipients {
		s, err := wrapKey(v.rand, fv.Key, pub)
		if err != nil {
			return nil, fmt.Errorf("failed to wrap the key of %s: %w", fv.Name, err)
		}
		to = append(to, s)
	}
	blk, err := v.sealNode(&fv.Key, adFile, body, func(sealed []byte) bodiless {
		n := fileNode{Type: "file", V: 1, Kid: kid, Links: fv.links, To: to, Body: sealed}
		if fv.Prev.Defined() {
			n.Prev = &Link{fv.Prev}
		}
		return n
	})
	if err != nil {
		return nil, fmt.Errorf("failed to seal %s: %w", fv.Name, err)
	}
	return blk, nil
}

// Revive writes a new version with the content, name, mode and mtime of
// old that follows prev (the path's current version, if any): a restore
// that re-uses every chunk and part of old. A version opened by ID
// (OpenFile) is read whole first, so a forgery never enters the tree.
func (v *Vault) Revive(ctx context.Context, old *FileVersion, name string, prev cid.Cid) (*FileVersion, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	ep := v.acct.ownEpoch(old.Hash, old.Key)
	if ep == nil {
		return nil, fmt.Errorf("failed to restore %s: the version was not written by this account", name)
	}
	kid := ep.fileID(old.Hash)
	// A version named by ID enters the tree, whose reads trust their
	// chunks, only once every chunk has been checked.
	check := v.checkContent(ctx, old, "version of "+old.Name)
	if old.byID {
		check = v.ReadRange(ctx, old, io.Discard, 0, -1)
	}
	if check != nil {
		return nil, fmt.Errorf("failed to restore %s: %w", name, check)
	}
	fv := *old
	fv.Name, fv.Prev, fv.Time, fv.Device, fv.byID, fv.ep = name, prev, v.now().UnixNano(), v.device, false, ep
	blk, err := v.sealVersion(&fv, kid, nil)
	if err != nil {
		return nil, err
	}
	if err := v.blocks.Put(ctx, []blocks.Block{blk}); err != nil {
		return nil, fmt.Errorf("failed to store %s: %w", name, err)
	}
	fv.CID = blk.Cid()
	return &fv, nil
}

// sealNode encodes body, seals it under key and wraps it in the node that
// wrap makes, as a DAG-CBOR block.
func (v *Vault) sealNode(key *[32]byte, label string, body any, wrap func([]byte) bodiless) (blocks.Block, error) {
	plain, err := marshal(body)
	if err != nil {
		return nil, err
	}
	ad, err := nodeAD(label, wrap(nil))
	if err != nil {
		return nil, err
	}
	sealed, err := sealBody(key, ad, plain)
	if err != nil {
		return nil, err
	}
	data, err := marshal(wrap(sealed))
	if err != nil {
		return nil, err
	}
	return newBlock(cborPrefix, data)
}
