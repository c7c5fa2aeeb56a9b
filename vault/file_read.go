package vault

// This file reads file versions: opening a version (and refusing forged
// ones), walking its part nodes, and reading ranges of its content.

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
)

// OpenFile reads the file version c, named by its ID alone, with the key
// the account derives for it. It refuses (ErrForged) a version not sealed
// under its own content's key, or whose chunks are not the content its
// hash names, and reads of it check every chunk against its key (SPEC.md,
// "Checks against forged versions").
func (v *Vault) OpenFile(ctx context.Context, c cid.Cid, what string) (*FileVersion, error) {
	// The key epoch is not written in the node: try each, newest first.
	ring := v.acct.epochs()
	for i, ep := range ring {
		fv, err := v.openFile(ctx, c, func(n *fileNode) ([32]byte, error) { return ep.fileKey(n.Kid), nil }, what)
		if err != nil {
			if i < len(ring)-1 && errors.Is(err, ErrWrongKey) {
				continue
			}
			return nil, err
		}
		fv.byID = true
		return fv, nil
	}
	panic("unreachable: epoch 0 is always in the ring")
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
	for _, ep := range v.acct.epochs() {
		own := ep.fileKey(n.Kid)
		if subtle.ConstantTimeCompare(own[:], key[:]) != 1 {
			continue
		}
		if !bytes.Equal(n.Kid, ep.fileID(fv.Hash)) {
			return nil, damaged(fmt.Errorf("the version is not sealed under its own content's key: %w", ErrForged))
		}
		fv.ep = ep
		break
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
	if fv.byID && fv.ep != nil && fv.ep.chunkKey(plain) != l.key {
		return nil, &DamagedError{CID: l.c, What: what, Err: fmt.Errorf("its bytes are not the content its key names: %w", ErrForged)}
	}
	return plain, nil
}
