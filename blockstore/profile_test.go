package blockstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	badger4 "github.com/ipfs/go-ds-badger4"
)

// BenchmarkPut writes 256 MiB of 256 KiB blocks (Kubo's chunk size; peer's
// 1 MiB leaves go to the value log under any threshold up to 1 MiB) in
// batches, under the default profile with two value thresholds, and
// reports the LSM tree's size on disk after close: with 1 KiB the blocks
// stay out of it, so compactions never rewrite them.
func BenchmarkPut(b *testing.B) {
	const blockSize, total = 256 << 10, 256 << 20
	data := make([]byte, total)
	if _, err := io.ReadFull(rand.Reader, data); err != nil {
		b.Fatal(err)
	}
	var blks []blocks.Block
	for off := 0; off < total; off += blockSize {
		blks = append(blks, blocks.NewBlock(data[off:off+blockSize]))
	}
	for _, threshold := range []int64{valueThreshold, 1 << 20} {
		b.Run(fmt.Sprintf("threshold-%dKiB", threshold>>10), func(b *testing.B) {
			b.SetBytes(total)
			var lsm int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				o := ProfileDefault.badgerOptions()
				o.Options = o.Options.WithValueThreshold(threshold)
				dir := b.TempDir()
				d, err := badger4.NewDatastore(dir, &o)
				if err != nil {
					b.Fatal(err)
				}
				bs := bstore.NewBlockstore(d)
				b.StartTimer()
				for j := 0; j < len(blks); j += 64 {
					if err := bs.PutMany(context.Background(), blks[j:min(j+64, len(blks))]); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				d.Close() // flushes the memtables into tables
				lsm = 0
				ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
				for _, f := range ssts {
					if fi, err := os.Stat(f); err == nil {
						lsm += fi.Size()
					}
				}
			}
			b.ReportMetric(float64(lsm>>20), "lsm-MiB")
		})
	}
}
