package vault

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
)

func testAccount(t testing.TB, seed byte) *Account {
	t.Helper()
	a, err := AccountFromSecret(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	return b
}

func TestFileRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{0, 1, ChunkMin, ChunkMax + 1, 5<<20 + 123} {
		mem := newMem()
		v := New(testAccount(t, 1), mem)
		data := randomBytes(size, uint64(size))
		fv, err := v.WriteFile(ctx, bytes.NewReader(data), FileInput{Name: "a.bin", Mode: 0o644, Mtime: 42})
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.OpenFile(ctx, fv.CID, "/a.bin")
		if err != nil {
			t.Fatal(err)
		}
		if got.Size != uint64(size) || got.Name != "a.bin" || got.Mode != 0o644 || got.Mtime != 42 || got.Key != fv.Key {
			t.Fatalf("size %d: read back %+v", size, got)
		}
		var out bytes.Buffer
		if err := v.ReadRange(ctx, got, &out, 0, -1); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("size %d: bytes differ", size)
		}
	}
}

func TestFileRanges(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	v := New(testAccount(t, 1), mem)
	v.fanout = 3 // force parts two levels deep
	data := randomBytes(12<<20+77, 7)
	fv, err := v.WriteFile(ctx, bytes.NewReader(data), FileInput{Name: "big"})
	if err != nil {
		t.Fatal(err)
	}
	if fv.depth < 2 {
		t.Fatalf("depth %d, want >= 2 with fanout 3", fv.depth)
	}
	fv, err = v.OpenFile(ctx, fv.CID, "big")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		off := r.IntN(len(data))
		n := r.IntN(3 << 20)
		end := min(off+n, len(data))
		var out bytes.Buffer
		if err := v.ReadRange(ctx, fv, &out, int64(off), int64(n)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data[off:end]) {
			t.Fatalf("range [%d,%d) differs", off, end)
		}
	}
	// A range reads only the chunks that cover it.
	ls, _, err := v.leaves(ctx, fv, 5<<20, 5<<20+1)
	if err != nil || len(ls) != 1 {
		t.Fatalf("one byte covered by %d chunks (err %v)", len(ls), err)
	}
}

func TestFileDedupAndEdit(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	v := New(testAccount(t, 1), mem)
	data := randomBytes(64<<20, 3)
	if _, err := v.WriteFile(ctx, bytes.NewReader(data), FileInput{Name: "f"}); err != nil {
		t.Fatal(err)
	}
	before := mem.news
	if _, err := v.WriteFile(ctx, bytes.NewReader(data), FileInput{Name: "f"}); err != nil {
		t.Fatal(err)
	}
	if chunkBytes := mem.news - before; chunkBytes > 64<<10 {
		t.Fatalf("adding the same 64 MiB again stored %d new bytes", chunkBytes)
	}
	edited := bytes.Clone(data)
	copy(edited[32<<20:], randomBytes(1<<20, 4))
	before = mem.news
	if _, err := v.WriteFile(ctx, bytes.NewReader(edited), FileInput{Name: "f"}); err != nil {
		t.Fatal(err)
	}
	if n := mem.news - before; n > 4<<20 {
		t.Fatalf("changing 1 MiB in the middle stored %d new bytes, want <= 4 MiB", n)
	} else {
		t.Logf("changing 1 MiB in the middle of 64 MiB stored %d new bytes", n)
	}
}

func TestFileWrongKeyAndDamage(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	v := New(testAccount(t, 1), mem)
	data := randomBytes(2<<20, 9)
	fv, err := v.WriteFile(ctx, bytes.NewReader(data), FileInput{Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	other := New(testAccount(t, 2), mem)
	if _, err := other.OpenFile(ctx, fv.CID, "/f"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("other account opened the file: %v", err)
	}
	// Flip a byte of the first chunk.
	c := fv.links[0].Cid
	mem.m[string(c.Hash())][100] ^= 1
	var out bytes.Buffer
	err = v.ReadRange(ctx, fv, &out, 0, -1)
	var d *DamagedError
	if !errors.As(err, &d) || d.CID != c {
		t.Fatalf("damaged chunk gave %v", err)
	}
	// Lose it.
	delete(mem.m, string(c.Hash()))
	err = v.ReadRange(ctx, fv, &out, 0, -1)
	var m *MissingError
	if !errors.As(err, &m) || m.CID != c {
		t.Fatalf("missing chunk gave %v", err)
	}
}

func TestRecipients(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	alice := New(testAccount(t, 1), mem)
	bob := New(testAccount(t, 2), mem)
	carol := New(testAccount(t, 3), mem)
	data := randomBytes(1000, 1)
	fv, err := alice.WriteFile(ctx, bytes.NewReader(data), FileInput{Name: "shared", To: [][32]byte{bob.acct.BoxPublic()}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := bob.OpenFileShared(ctx, fv.CID, "shared")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := bob.ReadRange(ctx, got, &out, 0, -1); err != nil || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("bob read %v", err)
	}
	if _, err := carol.OpenFileShared(ctx, fv.CID, "shared"); !errors.Is(err, errNotRecipient) {
		t.Fatalf("carol opened it: %v", err)
	}
}
