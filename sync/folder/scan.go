package folder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/peer-cloud/peer/vault"
)

// seen is a path found on disk by a walk.
type seen struct {
	rel string
	st  diskStat
}

// scanPlan is what a scan found changed on disk, to commit as one
// snapshot.
type scanPlan struct {
	moves   []move       // renames on disk that the vault can make as moves
	dirs    []seen       // folders new on disk
	files   []fileChange // files new or changed on disk
	removes []removal    // paths gone from disk (after the moves), deepest first
	forget  []string     // paths now ignored: dropped from the index only
}

type move struct {
	from, to string
	old      entry // what the index held at from
	st       diskStat
}

type removal struct {
	rel string
	old entry
}

type fileChange struct {
	rel string
	st  diskStat
	old *entry // what the index held there (after the moves), or nil
}

func (p *scanPlan) empty() bool {
	return len(p.moves)+len(p.dirs)+len(p.files)+len(p.removes)+len(p.forget) == 0
}

// scan looks at the paths in scopes (relative; "" is the whole folder)
// and commits what changed there.
func (f *folder) scan(ctx context.Context, scopes []string) error {
	if err := f.prepareRun(); err != nil {
		return err
	}
	f.setState(StateScanning)
	defer f.setState(StateIdle)
	scopes = topScopes(scopes)
	// Sized for the index: growing a map of 100 000 paths made as much
	// garbage again, and a daemon's memory limit sits a little above its
	// live heap, so garbage costs collections.
	found := make(map[string]diskStat, len(f.ix.ents)+1)
	var order []seen
	skipped := map[string]string{}
	now := time.Now()
	for _, s := range scopes {
		if err := f.walk(s, &order, found, skipped, now); err != nil {
			return err
		}
	}
	f.mu.Lock()
	for p := range f.skipped {
		for _, s := range scopes {
			if under(p, s) {
				delete(f.skipped, p)
			}
		}
	}
	for p, why := range skipped {
		f.skipped[p] = why
	}
	f.lastScan = now
	f.mu.Unlock()
	tree, err := f.acct.ReadTree()
	if err != nil {
		return err
	}
	plan, err := f.plan(ctx, tree, scopes, order, found, skipped)
	if err != nil {
		return err
	}
	f.log.Debug("scanned", "dir", f.cfg.Dir, "scopes", len(scopes), "paths", len(found),
		"changes", len(plan.moves)+len(plan.dirs)+len(plan.files)+len(plan.removes), "took", time.Since(now))
	if plan.empty() {
		return nil
	}
	return f.commit(ctx, plan)
}

// topScopes drops scopes below others.
func topScopes(scopes []string) []string {
	slices.Sort(scopes)
	var out []string
	for _, s := range slices.Compact(scopes) {
		if len(out) > 0 && under(s, out[len(out)-1]) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// walk records what is on disk at rel and below. A file written less
// than Settle ago is not taken yet: it is queued again.
func (f *folder) walk(rel string, order *[]seen, found map[string]diskStat, skipped map[string]string, now time.Time) error {
	if rel != "" {
		if err := realParents(f.cfg.Dir, rel); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // its folder is gone: the scope's parent sees that
			}
			return nil
		}
		if reserved(rel) {
			return nil
		}
		if ign, _ := f.ign.Match(rel); ign && f.ign.SkipDir(rel) {
			return nil
		}
	}
	st, ok, err := lstat(f.abs(rel))
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", f.abs(rel), err)
	}
	if !ok {
		return nil
	}
	return f.visit(rel, st, order, found, skipped, now)
}

func (f *folder) visit(rel string, st diskStat, order *[]seen, found map[string]diskStat, skipped map[string]string, now time.Time) error {
	if rel != "" {
		ignored, _ := f.ign.Match(rel)
		switch {
		case st.Other != "":
			if !ignored {
				skipped[rel] = st.Other + ": not synced"
			}
			return nil
		case ignored && (st.Kind != kindDir || f.ign.SkipDir(rel)):
			return nil
		case st.Kind == kindFile && !ignored && f.settling(rel, st, now):
			f.markDirty(rel, now) // still being written, maybe
			skipped[rel] = "waiting for it to settle"
			return nil
		}
		if !ignored {
			if _, err := vault.SplitPath("/" + rel); err != nil {
				skipped[rel] = "name not allowed in the vault: " + err.Error()
				return nil
			}
			found[rel] = st
			// What the index holds as it is on disk is left out of the
			// order the plan reads: neither a move's end nor a change.
			if e := f.ix.get(rel); e == nil || e.Kind != st.Kind || e.Inode != st.Inode || !e.sameDisk(st) {
				*order = append(*order, seen{rel, st})
			}
		}
	}
	if st.Kind != kindDir {
		return nil
	}
	des, err := os.ReadDir(f.abs(rel))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("failed to read %s (does the daemon's user have access?): %w", f.abs(rel), err)
	}
	for _, de := range des {
		c := join(rel, de.Name())
		if isTemp(de.Name()) {
			// Scans and writes take turns: a temporary file seen here is
			// what an interrupted write left.
			os.Remove(f.abs(c))
			continue
		}
		if reserved(c) {
			continue
		}
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", f.abs(c), err)
		}
		if err := f.visit(c, statOf(info), order, found, skipped, now); err != nil {
			return err
		}
	}
	return nil
}

// plan compares what the walk found with the index: renames the vault
// can follow as moves first, then new and changed paths, then paths
// gone.
func (f *folder) plan(ctx context.Context, tree *vault.Tree, scopes []string, order []seen, found map[string]diskStat, skipped map[string]string) (*scanPlan, error) {
	p := &scanPlan{}
	inScope := func(rel string) bool {
		for _, s := range scopes {
			if under(rel, s) {
				return true
			}
		}
		return false
	}
	// Index paths the disk no longer has as they were: candidates for
	// the source of a move, by inode.
	gone := map[uint64]string{}
	for _, s := range scopes {
		f.ix.walk(s, func(rel string, e *entry) {
			st, ok := found[rel]
			if (!ok || st.Kind != e.Kind || st.Inode != e.Inode) && e.Inode != 0 {
				gone[e.Inode] = rel
			}
		})
	}
	// A rename's two ends can fall into different scans (a watcher
	// event each, or a new folder's watch added after the rename into
	// it): a source outside the scopes is looked up in the whole index,
	// and is one only if the disk no longer holds it there.
	var outside map[uint64]string
	source := func(ino uint64) (string, bool) {
		if from, ok := gone[ino]; ok {
			return from, true
		}
		if slices.Contains(scopes, "") {
			return "", false
		}
		if outside == nil {
			outside = map[uint64]string{}
			f.ix.walk("", func(rel string, e *entry) {
				if e.Inode != 0 && !inScope(rel) {
					outside[e.Inode] = rel
				}
			})
		}
		from, ok := outside[ino]
		if !ok {
			return "", false
		}
		if st, there, err := lstat(f.abs(from)); err != nil || (there && st.Inode == ino) {
			return "", false
		}
		return from, true
	}
	view := f.ix
	for _, s := range order {
		if e := view.get(s.rel); e != nil && e.Kind == s.st.Kind && e.Inode == s.st.Inode {
			continue
		}
		if s.st.Inode == 0 {
			continue
		}
		from, ok := source(s.st.Inode)
		if !ok || under(s.rel, from) || under(from, s.rel) {
			continue
		}
		old := view.get(from)
		if old == nil || old.Kind != s.st.Kind || (old.Kind == kindFile && (old.Size != s.st.Size || old.Mtime != s.st.Mtime)) {
			continue
		}
		if _, still := found[from]; still && found[from].Inode == old.Inode {
			continue // a hard link, not a move
		}
		if !f.vaultHolds(ctx, tree, from, old) || f.vaultHas(ctx, tree, s.rel) {
			continue
		}
		if view == f.ix {
			view = f.ix.clone()
		}
		delete(gone, s.st.Inode)
		view.move(from, s.rel)
		p.moves = append(p.moves, move{from: from, to: s.rel, old: *old, st: s.st})
	}
	for _, s := range order {
		e := view.get(s.rel)
		switch {
		case e != nil && e.Kind == s.st.Kind && e.sameDisk(s.st):
			continue
		case e != nil && e.Kind != s.st.Kind:
			p.removes = append(p.removes, removal{s.rel, *e})
			e = nil
		}
		if s.st.Kind == kindDir {
			p.dirs = append(p.dirs, s)
			continue
		}
		p.files = append(p.files, fileChange{rel: s.rel, st: s.st, old: e})
	}
	for _, s := range scopes {
		view.walk(s, func(rel string, e *entry) {
			if _, ok := found[rel]; ok || !inScope(rel) {
				return
			}
			if _, why := skipped[rel]; why {
				return // waiting to settle, or unreadable: not gone
			}
			if ign, _ := f.ign.Match(rel); ign || reserved(rel) {
				p.forget = append(p.forget, rel)
				return
			}
			p.removes = append(p.removes, removal{rel, *e})
		})
	}
	// Deepest first, so a folder's removal sees it emptied.
	slices.SortFunc(p.removes, func(a, b removal) int {
		if c := strings.Count(b.rel, "/") - strings.Count(a.rel, "/"); c != 0 {
			return c
		}
		return strings.Compare(a.rel, b.rel)
	})
	p.removes = slices.CompactFunc(p.removes, func(a, b removal) bool { return a.rel == b.rel })
	return p, nil
}

// vaultHolds reports whether the vault still holds at rel what the index
// says the disk held: the same file version, or a folder of the same key.
func (f *folder) vaultHolds(ctx context.Context, t *vault.Tree, rel string, e *entry) bool {
	ve, err := t.Stat(ctx, f.vp(rel))
	if err != nil {
		return false
	}
	if e.Kind == kindFile {
		return ve.Kind == vault.KindFile && e.isVer(ve.CID)
	}
	return ve.Kind == vault.KindDir && slices.Equal(keyHash(ve.Key), e.Key())
}

func (f *folder) vaultHas(ctx context.Context, t *vault.Tree, rel string) bool {
	_, err := t.Stat(ctx, f.vp(rel))
	return err == nil
}

// settling reports whether a changed file was written too recently to
// be taken: its mtime is less than Settle ago.
func (f *folder) settling(rel string, st diskStat, now time.Time) bool {
	if e := f.ix.get(rel); e != nil && e.sameDisk(st) {
		return false
	}
	age := now.Sub(time.Unix(0, st.Mtime))
	return age < f.opts.Settle && age > -time.Minute
}

// prepareRun checks the marker, reads the ignore file and, once, how the
// file system treats case.
func (f *folder) prepareRun() error {
	if err := checkMarker(f.cfg.Dir); err != nil {
		return err
	}
	if !f.probed {
		ins, err := caseInsensitive(f.cfg.Dir)
		if err != nil {
			return err
		}
		f.insensitive, f.probed = ins, true
	}
	return f.loadIgnore()
}
