package vault

import (
	"bytes"
	"context"
	"crypto/subtle"
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
	// Small files (most of a typical tree) skip the pipeline: its
	// goroutines and channels cost more than sealing a few chunks.
	var head bytes.Buffer
	n, err := io.CopyN(&head, r, smallFile+1)
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("failed to read %s: %w", in.Name, err)
	case n <= smallFile:
		return v.writeSmall(ctx, head.Bytes(), in)
	}
	return v.writeLarge(ctx, io.MultiReader(&head, r), in)
}

// smallFile is the size up to which a file is sealed in the caller's
// goroutine.
const smallFile = 2 * ChunkMax

// writeSmall seals and stores a file held in memory.
func (v *Vault) writeSmall(ctx context.Context, data []byte, in FileInput) (*FileVersion, error) {
	var leaves []leaf
	var blks []blocks.Block
	for rest := data; len(rest) > 0; {
		k := cut(rest)
		buf := append(v.getBuf(), rest[:k]...)
		rest = rest[k:]
		key := v.acct.chunkKey(buf)
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
	return v.writeVersion(ctx, in, leaves, uint64(len(data)), contentHash(leaves))
}

// writeLarge runs the chunking pipeline over r.
func (v *Vault) writeLarge(ctx context.Context, r io.Reader, in FileInput) (*FileVersion, error) {
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
				key := v.acct.chunkKey(j.buf)
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
	return v.writeVersion(ctx, in, leaves, size, contentHash(leaves))
}

// writeVersion builds the part tree over leaves, seals and stores it with
// the version node.
func (v *Vault) writeVersion(ctx context.Context, in FileInput, leaves []leaf, size uint64, hash [32]byte) (*FileVersion, error) {
	kid := v.acct.fileID(hash)
	fv := &FileVersion{
		Key: v.acct.fileKey(kid), Prev: in.Prev, Name: in.Name, Size: size, Mode: in.Mode,
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
	kid := v.acct.fileID(old.Hash)
	if v.acct.fileKey(kid) != old.Key {
		return nil, fmt.Errorf("failed to restore %s: the version was not written by this account", name)
	}
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
	fv.Name, fv.Prev, fv.Time, fv.Device, fv.byID = name, prev, v.now().UnixNano(), v.device, false
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

// OpenFile reads the file version c, named by its ID alone, with the key
// the account derives for it. It refuses (ErrForged) a version not sealed
// under its own content's key, or whose chunks are not the content its
// hash names, and reads of it check every chunk against its key (SPEC.md,
// "Checks against forged versions").
func (v *Vault) OpenFile(ctx context.Context, c cid.Cid, what string) (*FileVersion, error) {
	fv, err := v.openFile(ctx, c, func(n *fileNode) ([32]byte, error) { return v.acct.fileKey(n.Kid), nil }, what)
	if err != nil {
		return nil, err
	}
	fv.byID = true
	return fv, nil
}

// OpenFileWithKey reads a file version with the key a folder entry holds
// or someone shared. It checks what a holder of the key can: that the
// chunk list is the content its hash names, and, with a key of this
// account, that the key is its content's. It trusts the chunks as it
// trusts where the key came from; open a version named from outside
// with OpenFile.
func (v *Vault) OpenFileWithKey(ctx context.Context, c cid.Cid, key [32]byte, what string) (*FileVersion, error) {
	return v.openFile(ctx, c, func(*fileNode) ([32]byte, error) { return key, nil }, what)
}

func (v *Vault) openFile(ctx context.Context, c cid.Cid, keyOf func(*fileNode) ([32]byte, error), what string) (*FileVersion, error) {
	var n fileNode
	if err := decodeNode(ctx, v.blocks, c, what, "file", &n); err != nil {
		return nil, err
	}
	damaged := func(err error) error { return &DamagedError{CID: c, What: what, Err: err} }
	if len(n.Kid) != 16 {
		return nil, damaged(errors.New("file id is not 16 bytes"))
	}
	fv := &FileVersion{CID: c}
	key, err := keyOf(&n)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", what, err)
	}
	fv.Key = key
	var b fileBody
	if err := openNode(n, adFile, &fv.Key, &b); err != nil {
		return nil, damaged(err)
	}
	if err := checkParts(b.Depth, n.Links, b.Parts, b.Size); err != nil {
		return nil, damaged(err)
	}
	if len(b.Hash) != 32 {
		return nil, damaged(errors.New("content hash is not 32 bytes"))
	}
	if n.Prev != nil {
		fv.Prev = n.Prev.Cid
	}
	fv.Name, fv.Size, fv.Mode, fv.Mtime, fv.Time, fv.Device = b.Name, b.Size, b.Mode, b.Mtime, b.Time, b.Device
	copy(fv.Hash[:], b.Hash)
	fv.depth, fv.links, fv.parts = b.Depth, n.Links, b.Parts
	// Anyone given this key can seal a body under it (SPEC.md, "Checks
	// against forged versions"): the owner checks that the key is its
	// content's, everyone that the chunk list is the content hash's.
	own := v.acct.fileKey(n.Kid)
	if subtle.ConstantTimeCompare(own[:], key[:]) == 1 && !bytes.Equal(n.Kid, v.acct.fileID(fv.Hash)) {
		return nil, damaged(fmt.Errorf("the version is not sealed under its own content's key: %w", ErrForged))
	}
	if fv.depth == 0 {
		if err := v.checkContent(ctx, fv, what); err != nil {
			return nil, err
		}
	}
	return fv, nil
}

// checkParts checks that a node's links and entries agree: one entry per
// link, chunk keys at depth 0 only, raw chunks below dag-cbor parts, and
// sizes that add up.
func checkParts(depth int, links []Link, parts []partEntry, size uint64) error {
	if depth < 0 || depth > maxDepth {
		return fmt.Errorf("depth %d out of range", depth)
	}
	if len(links) != len(parts) {
		return fmt.Errorf("%d links but %d entries", len(links), len(parts))
	}
	if len(links) > fanout {
		return fmt.Errorf("%d links, more than %d", len(links), fanout)
	}
	var sum uint64
	for i, p := range parts {
		codec := links[i].Prefix().Codec
		switch {
		case depth == 0 && (len(p.Key) != 32 || codec != cid.Raw || p.Size > ChunkMax):
			return fmt.Errorf("chunk %d: want a raw link, a 32-byte key and at most %d bytes", i, ChunkMax)
		case depth > 0 && (len(p.Key) != 0 || codec != cid.DagCBOR):
			return fmt.Errorf("part %d: want a dag-cbor link and no key", i)
		}
		if sum+p.Size < sum {
			return errors.New("sizes overflow")
		}
		sum += p.Size
	}
	if sum != size {
		return fmt.Errorf("parts hold %d bytes, size says %d", sum, size)
	}
	return nil
}

// leaves returns the chunks that cover [off, end) of the file, loading the
// part nodes on the way.
func (v *Vault) leaves(ctx context.Context, fv *FileVersion, off, end uint64) ([]leaf, uint64, error) {
	var out []leaf
	first := uint64(0) // file offset of out[0]
	var walk func(depth int, links []Link, parts []partEntry, base uint64) error
	walk = func(depth int, links []Link, parts []partEntry, base uint64) error {
		pos := base
		for i, p := range parts {
			lo, hi := pos, pos+p.Size
			pos = hi
			if hi <= off || lo >= end {
				continue
			}
			if depth == 0 {
				if len(out) == 0 {
					first = lo
				}
				var k [32]byte
				copy(k[:], p.Key)
				out = append(out, leaf{links[i].Cid, p.Size, k})
				continue
			}
			ls, ps, err := v.openPart(ctx, fv, links[i].Cid, depth, p.Size)
			if err != nil {
				return err
			}
			if err := walk(depth-1, ls, ps, lo); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(fv.depth, fv.links, fv.parts, 0); err != nil {
		return nil, 0, err
	}
	return out, first, nil
}

// openPart loads the part node c of fv, which its parent at depth says
// holds size bytes, and returns its links and entries.
func (v *Vault) openPart(ctx context.Context, fv *FileVersion, c cid.Cid, depth int, size uint64) ([]Link, []partEntry, error) {
	what := fmt.Sprintf("part of %s", fv.Name)
	var n partNode
	if err := decodeNode(ctx, v.blocks, c, what, "part", &n); err != nil {
		return nil, nil, err
	}
	damaged := func(err error) error { return &DamagedError{CID: c, What: what, Err: err} }
	var b partBody
	if err := openNode(n, adPart, &fv.Key, &b); err != nil {
		return nil, nil, damaged(err)
	}
	if b.Depth != depth-1 {
		return nil, nil, damaged(fmt.Errorf("depth %d below depth %d", b.Depth, depth))
	}
	if err := checkParts(b.Depth, n.Links, b.Parts, size); err != nil {
		return nil, nil, damaged(err)
	}
	return n.Links, b.Parts, nil
}

// ReadRange writes bytes [off, off+n) of the file to w, fetching only the
// chunks that cover them, several at once, in order. n < 0 reads to the
// end. Each chunk is authenticated by its key, and the keys and their
// order by the sealed body and the content hash; a version opened by ID
// has each chunk checked against its key too (SPEC.md, "Checks against
// forged versions"), so no wrong byte is ever written.
func (v *Vault) ReadRange(ctx context.Context, fv *FileVersion, w io.Writer, off, n int64) error {
	if off < 0 || uint64(off) > fv.Size {
		return fmt.Errorf("failed to read %s: offset %d outside its %d bytes", fv.Name, off, fv.Size)
	}
	end := fv.Size
	if n >= 0 && uint64(off+n) < end {
		end = uint64(off + n)
	}
	if uint64(off) == end {
		return nil
	}
	// A version with part nodes has its content hash checked here, not
	// when opened: listing history must not load every part node.
	if fv.depth > 0 {
		if err := v.checkContent(ctx, fv, "version of "+fv.Name); err != nil {
			return err
		}
	}
	ls, first, err := v.leaves(ctx, fv, uint64(off), end)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		data []byte
		err  error
	}
	window := 2 * v.workers
	slots := make([]chan result, len(ls))
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	sem := make(chan struct{}, window)
	go func() {
		for i := range ls {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func(i int) {
				data, err := v.readChunk(ctx, fv, i, ls[i])
				slots[i] <- result{data, err}
			}(i)
		}
	}()
	pos := first
	for i := range ls {
		var r result
		select {
		case r = <-slots[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-sem
		if r.err != nil {
			return r.err
		}
		d := r.data
		lo := uint64(0)
		if pos < uint64(off) {
			lo = uint64(off) - pos
		}
		hi := uint64(len(d))
		if pos+hi > end {
			hi = end - pos
		}
		if _, err := w.Write(d[lo:hi]); err != nil {
			return fmt.Errorf("failed to write %s: %w", fv.Name, err)
		}
		pos += uint64(len(d))
	}
	return nil
}

// readChunk fetches and opens chunk i of a file.
func (v *Vault) readChunk(ctx context.Context, fv *FileVersion, i int, l leaf) ([]byte, error) {
	what := fmt.Sprintf("chunk %d of %s", i, fv.Name)
	sealed, err := getBlock(ctx, v.blocks, l.c, what)
	if err != nil {
		return nil, err
	}
	plain, err := openChunk(&l.key, nil, sealed)
	if err != nil {
		return nil, &DamagedError{CID: l.c, What: what, Err: err}
	}
	if uint64(len(plain)) != l.size {
		return nil, &DamagedError{CID: l.c, What: what, Err: fmt.Errorf("%d bytes, want %d", len(plain), l.size)}
	}
	// Whoever holds the file key knows the chunk keys and can seal other
	// bytes under them; only the owner can tell.
	if fv.byID && v.acct.chunkKey(plain) != l.key {
		return nil, &DamagedError{CID: l.c, What: what, Err: fmt.Errorf("its bytes are not the content its key names: %w", ErrForged)}
	}
	return plain, nil
}
