package blockstore

import (
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4/options"
	badger4 "github.com/ipfs/go-ds-badger4"
)

// Profile names a set of Badger options tuned for a kind of machine.
type Profile string

const (
	// ProfileDefault suits a desktop or server: large memtables for fast
	// bulk writes, a block cache for reads.
	ProfileDefault Profile = "default"
	// ProfilePi suits a small board (Raspberry Pi, 1-4 GiB RAM, SD card):
	// few small memtables, no block cache, bounded index cache and small
	// value-log files so the idle daemon stays small.
	ProfilePi Profile = "pi"
)

// ParseProfile returns the profile called name, or an error that lists the
// valid names.
func ParseProfile(name string) (Profile, error) {
	switch Profile(name) {
	case ProfileDefault, ProfilePi:
		return Profile(name), nil
	case "":
		return ProfileDefault, nil
	}
	return "", fmt.Errorf("unknown profile %q: use %q or %q", name, ProfileDefault, ProfilePi)
}

// valueThreshold is the size above which Badger stores a value in the value
// log instead of the LSM tree. Blocks are 256 KiB to 1 MiB; DHT, pin and
// IPNS records are well under 1 KiB. At 1 KiB every block goes to the value
// log (written once, sequentially) and the LSM tree holds only keys and
// small records, so compactions stay cheap. Measured with
// `go test ./blockstore -run X -bench Put` (256 MiB of 256 KiB blocks):
// 1 KiB wrote 611 MB/s and left 0 MiB in the LSM tree; Badger's default
// 1 MiB wrote 480 MB/s and left all 256 MiB in it, for compactions to
// rewrite. (peer's own 1 MiB leaves reach the value log either way.)
const valueThreshold = 1 << 10

// trimInterval is how often the store drops its resident pages of
// Badger's memory-mapped files (see trimMappings); 0 means never. Only the
// pi profile trims: on a small board the page cache is better spent than
// held in one process's mappings, and its RSS should stay small.
func (p Profile) trimInterval() time.Duration {
	if p == ProfilePi {
		return 10 * time.Second
	}
	return 0
}

// badgerOptions returns the Badger options of p. Every value that departs
// from Badger's defaults is set here and says why.
func (p Profile) badgerOptions() badger4.Options {
	o := badger4.DefaultOptions
	// Value-log GC: check every 10 minutes, rewrite files at least 50%
	// garbage. Block deletes (repo gc) leave whole files of garbage, so a
	// high ratio reclaims them without rewriting live data needlessly.
	o.GcInterval = 10 * time.Minute
	o.GcSleep = 5 * time.Second
	o.GcDiscardRatio = 0.5
	b := o.Options
	b = b.WithValueThreshold(valueThreshold)
	b = b.WithLogger(nil)
	b = b.WithMetricsEnabled(false)
	// Blocks are content-addressed and already checked by hash on read;
	// compression of (mostly encrypted) block data only costs CPU.
	b = b.WithCompression(options.None)
	switch p {
	case ProfilePi:
		// 4 MiB memtables, two of them: at most 8 MiB of write buffers.
		// Blocks go to the value log, so a memtable holds keys and small
		// records: 4 MiB is tens of thousands of them. (An idle pi daemon
		// keeps one memtable's arena resident: 8 MiB ones cost it 10 MB.)
		// The value threshold (1 KiB) is far below Badger's 15% bound.
		b = b.WithMemTableSize(4 << 20)
		b = b.WithNumMemtables(2)
		b = b.WithNumLevelZeroTables(2)
		b = b.WithNumLevelZeroTablesStall(4)
		// No block cache: allowed because compression is off. Reads of
		// values come straight from the memory-mapped value log.
		b = b.WithBlockCacheSize(0)
		// Bound bloom filters and table indexes; without it they all stay
		// in RAM as the store grows.
		// 8 MiB: a 100 000-file account's indexes used 12 MB of 16.
		b = b.WithIndexCacheSize(8 << 20)
		// 64 MiB value-log files: small mmaps (a Pi 3 cannot map 1 GiB)
		// and finer-grained value-log GC.
		b = b.WithValueLogFileSize(64 << 20)
		b = b.WithNumCompactors(2)
		b = b.WithNumGoroutines(2)
		b = b.WithBaseTableSize(2 << 20)
	default:
		// 8 MiB memtables (Badger: 64 MiB), at most three: a memtable's
		// pages become resident as it fills (its arena is the memtable
		// and a batch's worth more), so with 64 MiB a device that
		// followed 5 000 small changes held 40 MB more than after 10.
		// Blocks over 1 KiB go to the value log, so a memtable holds keys
		// and pointers: 8 MiB is some 50 000 blocks between flushes.
		b = b.WithMemTableSize(8 << 20)
		b = b.WithNumMemtables(3)
		b = b.WithBlockCacheSize(64 << 20)
		b = b.WithIndexCacheSize(64 << 20)
		// 256 MiB value-log files: fewer files per GiB of blocks, while
		// value-log GC can still free space in useful steps.
		b = b.WithValueLogFileSize(256 << 20)
		b = b.WithNumCompactors(2)
	}
	o.Options = b
	return o
}
