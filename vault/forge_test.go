package vault

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// forger holds one version's file key and nothing of the account, as a
// recipient of a share does, and seals version nodes under it.
type forger struct {
	t    *testing.T
	v    *Vault // another account's vault: only its sealing is used
	mem  *memBlocks
	kid  []byte
	key  [32]byte
	prev *FileVersion
}

// chunk stores plain sealed under key and returns its leaf.
func (f *forger) chunk(key [32]byte, plain string) leaf {
	f.t.Helper()
	blk, err := newBlock(rawPrefix, sealChunk(&key, append([]byte(plain), make([]byte, 16)...)[:len(plain)]))
	if err != nil {
		f.t.Fatal(err)
	}
	f.mem.Put(context.Background(), []blocks.Block{blk})
	return leaf{blk.Cid(), uint64(len(plain)), key}
}

// part seals a part node of depth 0 over leaves under the file key.
func (f *forger) part(ls []leaf) (Link, partEntry) {
	f.t.Helper()
	var links []Link
	var parts []partEntry
	var size uint64
	for _, l := range ls {
		links = append(links, Link{l.c})
		parts = append(parts, partEntry{Size: l.size, Key: bytes.Clone(l.key[:])})
		size += l.size
	}
	blk, err := f.v.sealNode(&f.key, adPart, partBody{Depth: 0, Parts: parts}, func(b []byte) bodiless {
		return partNode{Type: "part", V: 1, Links: links, Body: b}
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.mem.Put(context.Background(), []blocks.Block{blk})
	return Link{blk.Cid()}, partEntry{Size: size}
}

// version seals a version node claiming hash over links and parts of the
// given depth, with the kid and key of the version it was given.
func (f *forger) version(hash [32]byte, depth int, links []Link, parts []partEntry) cid.Cid {
	f.t.Helper()
	var size uint64
	for _, p := range parts {
		size += p.Size
	}
	body := fileBody{Name: f.prev.Name, Size: size, Mode: 0o644, Mtime: 1, Time: f.prev.Time + 1, Device: "forger", Hash: hash[:], Depth: depth, Parts: parts}
	blk, err := f.v.sealNode(&f.key, adFile, body, func(b []byte) bodiless {
		return fileNode{Type: "file", V: 1, Kid: f.kid, Links: links, Body: b}
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.mem.Put(context.Background(), []blocks.Block{blk})
	return blk.Cid()
}

// leafVersion seals a depth-0 version over ls.
func (f *forger) leafVersion(hash [32]byte, ls []leaf) cid.Cid {
	var links []Link
	var parts []partEntry
	for _, l := range ls {
		links = append(links, Link{l.c})
		parts = append(parts, partEntry{Size: l.size, Key: bytes.Clone(l.key[:])})
	}
	return f.version(hash, 0, links, parts)
}

// TestForgedVersions: someone holding one version's file key (a share's
// recipient) seals other content under it. The owner opening it by ID
// (cat, get) or restoring it refuses it; the holder of the key alone
// refuses what it can check.
func TestForgedVersions(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	owner := New(testAccount(t, 1), mem)
	const secret = "the owner's words"
	fv, err := owner.WriteFile(ctx, bytes.NewReader([]byte(secret)), FileInput{Name: "note.txt", Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	var n fileNode
	if err := decodeNode(ctx, mem, fv.CID, "", "file", &n); err != nil {
		t.Fatal(err)
	}
	f := &forger{t: t, v: New(testAccount(t, 9), mem), mem: mem, kid: n.Kid, key: fv.Key, prev: fv}
	other := [32]byte{7}
	forgedLeaf := f.chunk(other, "forged words here")
	var origKey [32]byte
	copy(origKey[:], fv.parts[0].Key)
	sameKeys := f.chunk(origKey, "forged words here") // same key and size, other bytes
	if sameKeys.size != uint64(len(secret)) {
		t.Fatal("test content sizes differ")
	}
	deepLink, deepPart := f.part([]leaf{forgedLeaf})
	cases := []struct {
		what      string
		c         cid.Cid
		atOpen    bool // refused when opened, not only when read
		keyHolder bool // refused by a holder of the key alone too
	}{
		{"other content under the original content hash", f.leafVersion(fv.Hash, []leaf{forgedLeaf}), true, true},
		{"other content with its own content hash", f.leafVersion(contentHash([]leaf{forgedLeaf}), []leaf{forgedLeaf}), true, false},
		{"other chunks under the original chunk keys", f.leafVersion(fv.Hash, []leaf{sameKeys}), false, false},
		{"other content in a part node", f.version(fv.Hash, 1, []Link{deepLink}, []partEntry{deepPart}), false, true},
	}
	holder := New(testAccount(t, 9), mem)
	for _, tc := range cases {
		got, err := owner.OpenFile(ctx, tc.c, "/note.txt")
		if tc.atOpen {
			if !errors.Is(err, ErrForged) {
				t.Errorf("%s: the owner opened it: %v", tc.what, err)
			}
			// As it would from a folder entry holding the key.
			if _, err := owner.OpenFileWithKey(ctx, tc.c, f.key, "/note.txt"); !errors.Is(err, ErrForged) {
				t.Errorf("%s: the owner opened it with its key: %v", tc.what, err)
			}
		} else {
			if err != nil {
				t.Fatalf("%s: %v", tc.what, err)
			}
			var out bytes.Buffer
			if err := owner.ReadRange(ctx, got, &out, 0, -1); !errors.Is(err, ErrForged) {
				t.Errorf("%s: the owner read %q: %v", tc.what, out.String(), err)
			}
			if _, err := owner.Revive(ctx, got, "note.txt", fv.CID); !errors.Is(err, ErrForged) {
				t.Errorf("%s: the owner restored it: %v", tc.what, err)
			}
		}
		kv, err := holder.OpenFileWithKey(ctx, tc.c, f.key, "/note.txt")
		if err == nil {
			err = holder.ReadRange(ctx, kv, io.Discard, 0, -1)
		}
		if tc.keyHolder && !errors.Is(err, ErrForged) {
			t.Errorf("%s: the key's holder read it: %v", tc.what, err)
		}
	}
	// The genuine version still opens, reads and restores.
	got, err := owner.OpenFile(ctx, fv.CID, "/note.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := owner.ReadRange(ctx, got, &out, 0, -1); err != nil || out.String() != secret {
		t.Fatalf("genuine version read %q: %v", out.String(), err)
	}
	if _, err := owner.Revive(ctx, got, "note.txt", fv.CID); err != nil {
		t.Fatal(err)
	}
}
