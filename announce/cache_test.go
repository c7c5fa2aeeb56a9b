package announce

import (
	"testing"

	blocks "github.com/ipfs/go-block-format"
)

// The bounds the test holds a cache to (a device's).
const (
	maxBlockCache   = 16 << 20
	maxCacheEntries = 4096
)

// rawBlock is a raw block of data.
func rawBlock(t testing.TB, data []byte) blocks.Block {
	t.Helper()
	return blocks.NewBlock(data)
}

// TestBlockCacheBounded: the cache is bounded by entries and by bytes
// with their overhead, and does not keep the messages blocks came in.
func TestBlockCacheBounded(t *testing.T) {
	bc := NewCache(maxBlockCache, maxCacheEntries)
	for i := 0; i < 50_000; i++ {
		bc.Add([]blocks.Block{rawBlock(t, []byte{byte(i), byte(i >> 8), byte(i >> 16)})})
	}
	if n, cost := bc.Stats(); n > maxCacheEntries || cost > maxBlockCache {
		t.Fatalf("cache holds %d entries costing %d bytes; bounds %d and %d", n, cost, maxCacheEntries, maxBlockCache)
	}
	big := make([]byte, 1<<20)
	b := rawBlock(t, big[:10])
	bc.Add([]blocks.Block{b})
	got, _ := bc.Take(b.Cid())
	if cap(got) >= 1<<20 {
		t.Fatal("the cache keeps the whole buffer a block came in")
	}
	for i := 0; i < 40; i++ {
		bc.Add([]blocks.Block{rawBlock(t, append(big[:1<<20-1:1<<20-1], byte(i)))})
	}
	if n, cost := bc.Stats(); cost > maxBlockCache {
		t.Fatalf("cache holds %d entries costing %d bytes; bound %d", n, cost, maxBlockCache)
	}
	// Blocks taken are forgotten, and their slots do not pile up.
	used := NewCache(maxBlockCache, maxCacheEntries)
	for i := 0; i < 50_000; i++ {
		b := rawBlock(t, []byte{byte(i), byte(i >> 8), byte(i >> 16), 1})
		used.Add([]blocks.Block{b})
		if _, ok := used.Take(b.Cid()); !ok {
			t.Fatal("a block just added is not there to take")
		}
	}
	if n, cost := used.Stats(); n != 0 || cost != 0 || len(used.order) > 2*maxCacheEntries {
		t.Fatalf("after taking every block the cache holds %d entries costing %d bytes, %d slots", n, cost, len(used.order))
	}
}
