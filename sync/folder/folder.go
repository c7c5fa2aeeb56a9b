package folder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path"
	"path/filepath"
	"sync"
	"time"

	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"

	"github.com/peer-cloud/peer/account"
)

// folder keeps one local folder identical to one vault folder. Its loop
// runs scans and applies one at a time, so they never race each other.
type folder struct {
	cfg  Config
	id   string
	acct *account.Account
	ds   ds.Batching
	log  *slog.Logger
	opts Options

	ix          *index
	ign         *Ignore
	ignStat     diskStat // of the ignore file when it was read (Kind 0: none)
	ignLoaded   bool
	insensitive bool
	// trees: vault folder nodes (by relative path) whose whole subtree the
	// disk was found to hold by the last apply; applying skips them.
	trees map[string]cid.Cid

	kick chan struct{} // wakes the loop (cap 1)

	mu        sync.Mutex
	dirty     map[string]dirtyPath // paths to scan, from the watcher
	fullScan  bool                 // a full scan is due
	applyDue  bool
	state     State
	lastErr   error
	warning   string
	skipped   map[string]string // scanning left these out, and why
	blocked   map[string]string // applying left these out, and why
	lastScan  time.Time
	lastApply time.Time
	pendingN  int // changes found and not yet committed or applied
	nFiles    int
	nDirs     int
	probed    bool // the file system's case handling is known
}

// dirtyPath is a path the watcher saw change: first and last event.
type dirtyPath struct{ first, last time.Time }

// State is what a folder is doing.
type State string

// States of a folder.
const (
	StateIdle     State = "idle"
	StateScanning State = "scanning"
	StateSyncing  State = "syncing"
	StateError    State = "error"   // failed; retried after a while
	StateStopped  State = "stopped" // the marker or the vault folder is gone: waits for it
)

func (f *folder) abs(rel string) string {
	if rel == "" {
		return f.cfg.Dir
	}
	return filepath.Join(f.cfg.Dir, filepath.FromSlash(rel))
}

func (f *folder) vp(rel string) string {
	if rel == "" {
		return f.cfg.Vault
	}
	return path.Join(f.cfg.Vault, rel)
}

func (f *folder) wake() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// markDirty queues rel for a scan once it has settled.
func (f *folder) markDirty(rel string, now time.Time) {
	f.mu.Lock()
	d, ok := f.dirty[rel]
	if !ok {
		d.first = now
	}
	d.last = now
	f.dirty[rel] = d
	f.mu.Unlock()
	f.wake()
}

// rescan asks for a full scan.
func (f *folder) rescan() {
	f.mu.Lock()
	f.fullScan = true
	f.mu.Unlock()
	f.wake()
}

func (f *folder) setState(s State) {
	f.mu.Lock()
	f.state = s
	f.mu.Unlock()
}

// ready takes the dirty paths that have settled: quiet for Settle, or
// changing for MaxDelay. It returns when the next one will be.
func (f *folder) ready(now time.Time) (paths []string, full bool, next time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	full, f.fullScan = f.fullScan, false
	for p, d := range f.dirty {
		due := d.last.Add(f.opts.Settle)
		if cap := d.first.Add(f.opts.MaxDelay); cap.Before(due) {
			due = cap
		}
		if full || !due.After(now) {
			paths = append(paths, p)
			delete(f.dirty, p)
		} else if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return paths, full, next
}

// run is the folder's loop, until ctx ends.
func (f *folder) run(ctx context.Context, heads <-chan struct{}) {
	if !f.opts.noWatch {
		if w := f.startWatch(ctx); w != nil {
			defer w.close()
		}
	}
	if err := f.recover(ctx); err != nil {
		f.fail(err)
	}
	f.rescan()
	nextRescan := time.Now().Add(f.jitter(f.opts.Rescan))
	var retry time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		now := time.Now()
		if !retry.IsZero() && !now.Before(retry) {
			retry = time.Time{}
			f.rescan()
		}
		if !now.Before(nextRescan) {
			nextRescan = now.Add(f.jitter(f.opts.Rescan))
			f.rescan()
		}
		paths, full, next := f.ready(now)
		err := f.step(ctx, paths, full)
		if ctx.Err() != nil {
			return
		}
		f.counts()
		if err != nil {
			f.fail(err)
			if retry.IsZero() {
				retry = time.Now().Add(f.opts.Retry)
			}
		} else if len(paths) > 0 || full {
			f.clearErr()
		}
		wait := nextRescan
		for _, t := range []time.Time{next, retry} {
			if !t.IsZero() && t.Before(wait) {
				wait = t
			}
		}
		timer.Reset(max(time.Until(wait), 0))
		f.mu.Lock()
		again := f.fullScan || f.applyDue
		f.mu.Unlock()
		if again && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-heads:
			f.mu.Lock()
			f.applyDue = true
			f.mu.Unlock()
		case <-f.kick:
		case <-timer.C:
		}
	}
}

// step scans what is due, then applies the vault's head if it is due.
func (f *folder) step(ctx context.Context, paths []string, full bool) error {
	if full || len(paths) > 0 {
		scopes := paths
		if full {
			scopes = []string{""}
		}
		if err := f.scan(ctx, scopes); err != nil {
			return err
		}
		f.mu.Lock()
		f.applyDue = true
		f.mu.Unlock()
	}
	f.mu.Lock()
	due := f.applyDue
	f.applyDue = false
	f.mu.Unlock()
	if !due {
		return nil
	}
	return f.apply(ctx)
}

func (f *folder) jitter(d time.Duration) time.Duration {
	return d*3/4 + time.Duration(rand.Int64N(int64(d)/2+1))
}

func (f *folder) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastErr = err
	f.state = StateError
	if errors.Is(err, ErrMarkerMissing) || errors.Is(err, ErrVaultFolderMissing) {
		f.state = StateStopped
	}
	f.log.Warn("folder sync failed", "dir", f.cfg.Dir, "err", err)
}

func (f *folder) clearErr() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastErr = nil
	if f.state == StateError || f.state == StateStopped {
		f.state = StateIdle
	}
}

// ErrVaultFolderMissing is wrapped by the error of a folder whose vault
// folder is gone (removed or moved on another device).
var ErrVaultFolderMissing = errors.New("vault folder missing")

// vaultMissing explains a vault folder that is gone.
func (f *folder) vaultMissing() error {
	return fmt.Errorf("%s: %w (removed or moved on another device?): nothing is deleted here; 'peer sync rm %s' and add it again with --to where it is now",
		f.cfg.Vault, ErrVaultFolderMissing, f.cfg.Dir)
}
