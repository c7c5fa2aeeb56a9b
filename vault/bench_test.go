package vault

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
)

// bigTree commits a tree of n files: 100 folders of n/100 files each
// (folders /dNN, files /dNN/fNNNNN), with one tiny shared file version.
func bigTree(t testing.TB, v *Vault, n int) *Snapshot {
	ctx := context.Background()
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	fv, err := v.WriteFile(ctx, bytes.NewReader([]byte("x")), FileInput{Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := tr.PutFile(ctx, fmt.Sprintf("/d%02d/f%06d", i%100, i), fv); err != nil {
			t.Fatal(err)
		}
	}
	s, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestChangeWritesFewBlocks: one changed file in a 100 000-file tree
// writes its chunk and version, the folders on its way and a snapshot.
func TestChangeWritesFewBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100 000-file tree")
	}
	ctx := context.Background()
	mem := newMem()
	v := New(testAccount(t, 1), mem)
	s := bigTree(t, v, 100_000)
	tr := s.OpenTree(v)
	before := mem.puts
	putSmall(t, v, tr, "/d42/f000042", "changed")
	if _, err := v.Commit(ctx, tr, s); err != nil {
		t.Fatal(err)
	}
	written := mem.puts - before
	t.Logf("one change in a 100 000-file tree wrote %d blocks", written)
	if written > 30 {
		t.Fatalf("one change wrote %d blocks, want <= 30", written)
	}
}

// BenchmarkList10k lists a 10 000-entry folder from a freshly opened tree.
func BenchmarkList10k(b *testing.B) {
	ctx := context.Background()
	mem := newMem()
	v := New(testAccount(b, 1), mem)
	tr, _ := v.NewTree()
	fv, _ := v.WriteFile(ctx, bytes.NewReader([]byte("x")), FileInput{Name: "x"})
	for i := range 10_000 {
		if err := tr.PutFile(ctx, fmt.Sprintf("/big/f%06d", i), fv); err != nil {
			b.Fatal(err)
		}
	}
	s, err := v.Commit(ctx, tr)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		es, err := s.OpenTree(v).List(ctx, "/big")
		if err != nil || len(es) != 10_000 {
			b.Fatal(len(es), err)
		}
	}
}

// BenchmarkWriteFile seals and stores 256 MiB into memory: the vault's
// own cost of an add, without the disk.
func BenchmarkWriteFile(b *testing.B) {
	ctx := context.Background()
	data := randomBytes(256<<20, 1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		v := New(testAccount(b, 1), discard{})
		if _, err := v.WriteFile(ctx, bytes.NewReader(data), FileInput{Name: "f"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFile reads 256 MiB back from memory.
func BenchmarkReadFile(b *testing.B) {
	ctx := context.Background()
	data := randomBytes(256<<20, 1)
	mem := newMem()
	v := New(testAccount(b, 1), mem)
	fv, err := v.WriteFile(ctx, bytes.NewReader(data), FileInput{Name: "f"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := v.ReadRange(ctx, fv, io.Discard, 0, -1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunker runs the content-defined chunker alone.
func BenchmarkChunker(b *testing.B) {
	data := randomBytes(64<<20, 1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for rest := data; len(rest) > 0; {
			rest = rest[cut(rest):]
		}
	}
}

// rootFolderOf commits a vault whose root folder holds n files
// (/f000000 ...), all one tiny version.
func rootFolderOf(b *testing.B, n int) (*Vault, *Snapshot) {
	ctx := context.Background()
	v := New(testAccount(b, 1), newMem())
	tr, _ := v.NewTree()
	fv, _ := v.WriteFile(ctx, bytes.NewReader([]byte("x")), FileInput{Name: "x"})
	for i := range n {
		if err := tr.PutFile(ctx, fmt.Sprintf("/f%06d", i), fv); err != nil {
			b.Fatal(err)
		}
	}
	s, err := v.Commit(ctx, tr)
	if err != nil {
		b.Fatal(err)
	}
	return v, s
}

// BenchmarkChangeInFolder changes one file of a folder of n files and
// commits, then opens the new tree and reads the file's entry back, as
// a follower's first lookup does: the per-change cost that grows with a
// folder's size until it shards.
func BenchmarkChangeInFolder(b *testing.B) {
	for _, n := range []int{10, 500, 999, 1001, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			v, s := rootFolderOf(b, n)
			var err error
			i := 0
			for b.Loop() {
				tr := s.OpenTree(v)
				p := fmt.Sprintf("/f%06d", i%n)
				putSmall(b, v, tr, p, fmt.Sprint(i))
				if s, err = v.Commit(ctx, tr, s); err != nil {
					b.Fatal(err)
				}
				if _, err := s.OpenTree(v).Stat(ctx, p); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkStatInFolder opens a committed tree and reads one entry of a
// folder of n files: what a follower pays to read a change it took in.
func BenchmarkStatInFolder(b *testing.B) {
	for _, n := range []int{10, 999, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			v, s := rootFolderOf(b, n)
			for b.Loop() {
				if _, err := s.OpenTree(v).Stat(ctx, "/f000007"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
