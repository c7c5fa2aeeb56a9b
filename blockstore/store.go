package blockstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ipfs/boxo/blockservice"
	bstore "github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/boxo/pinning/pinner/dspinner"
	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	badger4 "github.com/ipfs/go-ds-badger4"
	ipld "github.com/ipfs/go-ipld-format"
)

// ErrLocked reports that another process holds the store open.
var ErrLocked = errors.New("the block store is in use by another process (is a daemon running?)")

// Store is a node's Badger database with the block store, pinner and an
// offline DAG service on top of it. A Store is safe for concurrent use.
type Store struct {
	dir     string
	profile Profile
	ds      *badger4.Datastore
	blocks  bstore.GCBlockstore
	dag     ipld.DAGService
	pinner  pin.Pinner
	log     *slog.Logger
	// roots lists DAGs kept besides the pins (the vault's head).
	rootsMu sync.Mutex
	roots   []RootsFunc
	// direct lists blocks kept alone, besides the pins (AddDirectRoots).
	direct   []RootsFunc
	prealloc *preallocator
	// lock holds the folder for this process.
	lock *dirLock
	// stop and done end the trim loop; nil when the profile does not trim.
	stop chan struct{}
	done chan struct{}
}

// RootsFunc returns the roots of DAGs that GC must keep whole, like
// recursive pins that are not in the pinner (the account's head, which
// changes with every snapshot, is one).
type RootsFunc func(ctx context.Context) ([]cid.Cid, error)

// AddRoots registers more roots for GC to keep.
func (s *Store) AddRoots(f RootsFunc) {
	s.rootsMu.Lock()
	defer s.rootsMu.Unlock()
	s.roots = append(s.roots, f)
}

// AddDirectRoots registers blocks for GC to keep alone, not the DAGs
// below them, like direct pins that are not in the pinner: a donor's
// snapshots, whose parents it may have let go.
func (s *Store) AddDirectRoots(f RootsFunc) {
	s.rootsMu.Lock()
	defer s.rootsMu.Unlock()
	s.direct = append(s.direct, f)
}

// Open opens (creating if needed) the store in dir with the options of
// profile. The caller must Close it.
//
// Open refuses, with an error matching [ErrDamaged] that names dir and what
// to do, a store Badger would empty or crash on: data files without a
// MANIFEST, a MANIFEST it cannot read, a missing or truncated table file.
func Open(ctx context.Context, dir string, profile Profile, log *slog.Logger) (s *Store, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create block store folder: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.unlock()
		}
	}()
	o := profile.badgerOptions()
	o.Options = o.Options.WithLogger(badgerLogger{log}).WithBypassLockGuard(ownsLock)
	if err := checkDir(dir, o.ExternalMagicVersion, log); err != nil {
		return nil, err
	}
	d, err := openBadger(dir, &o)
	if err != nil {
		return nil, err
	}
	s = &Store{dir: dir, profile: profile, ds: d, log: log, lock: lock}
	base := bstore.NewBlockstore(d, bstore.WriteThrough(true))
	cached, err := bstore.CachedBlockstore(ctx, base, cacheOpts(profile))
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("failed to set up block cache: %w", err)
	}
	s.blocks = bstore.NewGCBlockstore(bstore.NewIdStore(cached), bstore.NewGCLocker())
	s.dag = merkledag.NewDAGService(blockservice.New(s.blocks, nil))
	// dspinner and the reprovider prefix their own keys (/pins, /provider);
	// go-datastore's namespaces skip a prefix a key already has, so
	// wrapping them in a namespace of the same name would corrupt queries.
	s.pinner, err = dspinner.New(ctx, s.ds, s.dag)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("failed to load pins: %w", err)
	}
	if s.prealloc, err = startPrealloc(dir, log); err != nil {
		s.Close()
		return nil, fmt.Errorf("failed to watch block store %s: %w", dir, err)
	}
	if every := profile.trimInterval(); every > 0 {
		abs, err := filepath.Abs(dir)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("failed to open block store %s: %w", dir, err)
		}
		s.stop, s.done = make(chan struct{}), make(chan struct{})
		go s.trimLoop(abs, every)
	}
	return s, nil
}

// openBadger opens the Badger database in dir, turning a panic in this
// goroutine into an error that names dir.
func openBadger(dir string, o *badger4.Options) (d *badger4.Datastore, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = damaged(dir, fmt.Sprintf("Badger failed opening it (%s)", firstLine(fmt.Sprint(r))), restoreHint(dir))
		}
	}()
	d, err = badger4.NewDatastore(dir, o)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("failed to open %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("failed to open block store %s: %s (if its files were damaged, restore the folder from a backup)", dir, firstLine(err.Error()))
	}
	return d, nil
}

// trimLoop drops resident pages of Badger's mapped files under dir every
// interval, until Close.
func (s *Store) trimLoop(dir string, every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := trimMappings(dir); err != nil {
				s.log.Debug("failed to trim memory maps", "err", err)
			}
		case <-s.stop:
			return
		}
	}
}

func cacheOpts(p Profile) bstore.CacheOpts {
	o := bstore.DefaultCacheOpts()
	// boxo's 64 Ki entries of has/size cache held 16.6 MB of a default
	// daemon's 60 MB live heap after a scan of 100 000 files (some 250
	// bytes an entry); 16 Ki (4-16 GiB of blocks) are the working set of
	// a transfer, and a miss costs a bloom filter and a Badger lookup.
	o.HasTwoQueueCacheSize = 16 << 10
	if p == ProfilePi {
		// 8 Ki suffice for a small board's working set.
		o.HasTwoQueueCacheSize = 8 << 10
		o.HasBloomFilterSize = 128 << 10
	}
	return o
}

// Blockstore returns the block store (with the GC lock).
func (s *Store) Blockstore() bstore.GCBlockstore { return s.blocks }

// Datastore returns the whole datastore. Prefer Namespace for records.
func (s *Store) Datastore() ds.Batching { return s.ds }

// Namespace returns the datastore under /name.
func (s *Store) Namespace(name string) ds.Batching {
	return namespace.Wrap(s.ds, ds.NewKey(name))
}

// DAG returns an offline DAG service over the local blocks.
func (s *Store) DAG() ipld.DAGService { return s.dag }

// Pinner returns the pinner. Pinning a DAG through it requires every block
// to be local: fetch first, then pin.
func (s *Store) Pinner() pin.Pinner { return s.pinner }

// Profile returns the profile the store was opened with.
func (s *Store) Profile() Profile { return s.profile }

// Close flushes pins and closes the database.
func (s *Store) Close() error {
	if s.prealloc != nil {
		s.prealloc.stop()
	}
	if s.stop != nil {
		close(s.stop)
		<-s.done
	}
	ctx := context.Background()
	var errs []error
	if err := s.pinner.Flush(ctx); err != nil {
		errs = append(errs, fmt.Errorf("failed to flush pins: %w", err))
	}
	if c, ok := s.pinner.(interface{ Close() error }); ok {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("failed to close pinner: %w", err))
		}
	}
	if err := s.ds.Close(); err != nil {
		errs = append(errs, fmt.Errorf("failed to close block store: %w", err))
	}
	if err := s.lock.unlock(); err != nil {
		errs = append(errs, fmt.Errorf("failed to unlock block store: %w", err))
	}
	return errors.Join(errs...)
}

// DiskUsage returns the bytes the database takes on disk (allocated
// blocks: Badger's preallocated, sparse files count only what they hold).
func (s *Store) DiskUsage() (int64, error) {
	var n int64
	err := filepath.WalkDir(s.dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += allocated(fi)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("failed to measure block store: %w", err)
	}
	return n, nil
}

// badgerLogger forwards Badger's warnings and errors to slog and drops its
// chatty info and debug lines.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(f, a...)), "part", "badger")
}
func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(f, a...)), "part", "badger")
}
func (l badgerLogger) Infof(string, ...any)  {}
func (l badgerLogger) Debugf(string, ...any) {}

// allocated returns the bytes a file occupies on disk where the system
// reports it, else its length.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
