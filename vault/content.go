package vault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"lukechampine.com/blake3"
)

// ErrForged is wrapped by the errors about a file version whose content
// is not the content its key was derived from: sealed by someone who held
// one version's key (SPEC.md, "Checks against forged versions").
var ErrForged = errors.New("refusing a forged version")

// labelContentHash prefixes the content hash's input.
const labelContentHash = "peer/v1 content hash"

// contentHash is a file version's content hash: BLAKE3-256 over the label,
// then each chunk's key and 8-byte little-endian plaintext size in order.
// Chunk keys are keyed hashes of the plaintext, so this names the content
// within one account without a second pass over the bytes.
func contentHash(leaves []leaf) [32]byte {
	h := newContentHasher()
	for _, l := range leaves {
		h.add(l.key[:], l.size)
	}
	return h.sum()
}

// contentHasher computes a content hash one chunk at a time.
type contentHasher struct{ h *blake3.Hasher }

func newContentHasher() contentHasher {
	h := blake3.New(32, nil)
	h.Write([]byte(labelContentHash))
	return contentHasher{h}
}

func (c contentHasher) add(key []byte, size uint64) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], size)
	c.h.Write(key)
	c.h.Write(n[:])
}

func (c contentHasher) sum() (out [32]byte) {
	c.h.Sum(out[:0])
	return out
}

// checkContent checks that the chunk keys and sizes under fv hash to its
// content hash, loading its part nodes (one per 4096 chunks) if it has
// any.
func (v *Vault) checkContent(ctx context.Context, fv *FileVersion, what string) error {
	h := newContentHasher()
	var walk func(depth int, links []Link, parts []partEntry) error
	walk = func(depth int, links []Link, parts []partEntry) error {
		for i, p := range parts {
			if depth == 0 {
				h.add(p.Key, p.Size)
				continue
			}
			ls, ps, err := v.openPart(ctx, fv, links[i].Cid, depth, p.Size)
			if err != nil {
				return err
			}
			if err := walk(depth-1, ls, ps); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(fv.depth, fv.links, fv.parts); err != nil {
		return err
	}
	return fv.checkHash(h.sum(), what)
}

// checkHash compares the content hash of the chunks found under fv with
// the one its body gives.
func (fv *FileVersion) checkHash(got [32]byte, what string) error {
	if got != fv.Hash {
		return &DamagedError{CID: fv.CID, What: what, Err: fmt.Errorf("its chunks are not the content its hash names: %w", ErrForged)}
	}
	return nil
}
