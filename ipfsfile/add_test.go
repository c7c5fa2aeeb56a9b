package ipfsfile_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"

	pin "github.com/ipfs/boxo/pinning/pinner"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/ipfsfile"
)

// BenchmarkAdd adds 1 GiB of random data from a file into a fresh store and
// pins it, as the daemon does for peer ipfs add.
func BenchmarkAdd(b *testing.B) {
	ctx := context.Background()
	const size = 1 << 30
	src := filepath.Join(b.TempDir(), "src")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(bufio.NewWriter(f), rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := blockstore.Open(ctx, b.TempDir(), blockstore.ProfileDefault, nil)
		if err != nil {
			b.Fatal(err)
		}
		in, err := os.Open(src)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		nd, err := ipfsfile.Add(ctx, s.DAG(), in)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Pinner().PinWithMode(ctx, nd.Cid(), pin.Recursive, ""); err != nil {
			b.Fatal(err)
		}
		if err := s.Pinner().Flush(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		in.Close()
		s.Close()
	}
}
