package folder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	cid "github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/vault"
)

// want is a vault entry the disk does not hold yet.
type want struct {
	rel string
	ve  vault.Entry
}

// applyPlan is what the disk lacks of the vault folder.
type applyPlan struct {
	files   []want
	dirs    []want
	leaving []string // index paths the vault no longer holds (or holds as another kind)
	visited []visit
}

type visit struct {
	rel string
	c   cid.Cid
}

// maxMoveRounds bounds the rounds of folder moves in one apply (each
// round moves at least one folder, and the diff is made again).
const maxMoveRounds = 8

// apply makes the disk hold what the vault's head holds in the vault
// folder: moves first (as renames), then new folders and files, then
// removals. Nothing the index does not know as scanned is ever replaced
// or removed: such paths are queued for a scan and left out.
func (f *folder) apply(ctx context.Context) error {
	if err := f.prepareRun(); err != nil {
		return err
	}
	head := f.acct.Head()
	if head == nil {
		return nil
	}
	t := head.OpenTree(f.acct.Vault())
	root, err := t.Stat(ctx, f.cfg.Vault)
	switch {
	case errors.Is(err, vault.ErrNotExist):
		if len(f.ix.ents) == 0 {
			return nil
		}
		return f.vaultMissing()
	case err != nil:
		return fmt.Errorf("failed to read %s: %w", f.cfg.Vault, err)
	case root.Kind != vault.KindDir:
		return fmt.Errorf("%s is a file in the vault, not a folder: %w", f.cfg.Vault, ErrVaultFolderMissing)
	}
	if c, ok := f.trees[""]; ok && c.Equals(root.CID) {
		return nil
	}
	f.setState(StateSyncing)
	defer f.setState(StateIdle)
	blocked := map[string]string{}
	var ap *applyPlan
	for round := 0; ; round++ {
		ap = &applyPlan{}
		if err := f.diff(ctx, t, "", root, ap, blocked); err != nil {
			return err
		}
		f.setPending(len(ap.files) + len(ap.dirs) + len(ap.leaving))
		moved, err := f.moves(ctx, ap, blocked, round < maxMoveRounds)
		if err != nil {
			return err
		}
		if !moved {
			break
		}
	}
	wanted := map[string]bool{}
	for _, w := range ap.files {
		wanted[w.rel] = true
	}
	for _, w := range ap.dirs {
		wanted[w.rel] = true
	}
	// A path changing kind is emptied first; other removals come last,
	// after what they may have moved to is there.
	var later []string
	for _, l := range ap.leaving {
		if wanted[l] {
			if err := f.removeTree(ctx, l, blocked); err != nil {
				return err
			}
		} else {
			later = append(later, l)
		}
	}
	if err := f.makeDirs(ctx, ap.dirs, blocked); err != nil {
		return err
	}
	if err := f.writeFiles(ctx, ap.files, blocked); err != nil {
		return err
	}
	for _, l := range later {
		if err := f.removeTree(ctx, l, blocked); err != nil {
			return err
		}
	}
	for _, v := range ap.visited {
		clean := true
		for p := range blocked {
			if under(p, v.rel) {
				clean = false
				break
			}
		}
		if clean {
			f.trees[v.rel] = v.c
		} else {
			delete(f.trees, v.rel)
		}
	}
	f.mu.Lock()
	f.blocked = blocked
	f.lastApply = nowFunc()
	f.pendingN = 0
	f.mu.Unlock()
	return nil
}

func (f *folder) setPending(n int) {
	f.mu.Lock()
	f.pendingN = n
	f.mu.Unlock()
}

// diff compares the vault folder at rel (entry ve) with the index,
// skipping folders the last apply found in sync.
func (f *folder) diff(ctx context.Context, t *vault.Tree, rel string, ve vault.Entry, ap *applyPlan, blocked map[string]string) error {
	if c, ok := f.trees[rel]; ok && c.Equals(ve.CID) {
		return nil
	}
	ap.visited = append(ap.visited, visit{rel, ve.CID})
	es, err := t.List(ctx, f.vp(rel))
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", f.vp(rel), err)
	}
	names := make(map[string]bool, len(es))
	folds := map[string]string{}
	for _, e := range es {
		c := join(rel, e.Name)
		names[e.Name] = true
		if err := checkRel(c); err != nil {
			blocked[c] = err.Error()
			continue
		}
		if reserved(c) {
			blocked[c] = "the name is peer's own (marker, ignore or temporary file): not written"
			continue
		}
		if ign, _ := f.ign.Match(c); ign {
			continue
		}
		if f.insensitive {
			k := strings.ToLower(e.Name)
			if other, ok := folds[k]; ok {
				blocked[c] = fmt.Sprintf("its name differs from %q only in case, and this file system ignores case: not written", other)
				continue
			}
			folds[k] = e.Name
		}
		ie := f.ix.get(c)
		if e.Kind == vault.KindFile {
			if ie != nil && ie.Kind == kindFile && ie.isVer(e.CID) {
				continue
			}
			if ie != nil && ie.Kind != kindFile {
				ap.leaving = append(ap.leaving, c)
			}
			ap.files = append(ap.files, want{c, e})
			continue
		}
		if ie == nil || ie.Kind != kindDir {
			if ie != nil {
				ap.leaving = append(ap.leaving, c)
			}
			ap.dirs = append(ap.dirs, want{c, e})
		}
		if err := f.diff(ctx, t, c, e, ap, blocked); err != nil {
			return err
		}
	}
	for _, n := range f.ix.children(rel) {
		if !names[n] {
			ap.leaving = append(ap.leaving, join(rel, n))
		}
	}
	return nil
}

// moves renames on disk what the vault moved: a folder of the same key,
// or a file of the same version, that left its old path. After folder
// moves the diff must be made again (moved reports it).
func (f *folder) moves(ctx context.Context, ap *applyPlan, blocked map[string]string, dirsToo bool) (moved bool, err error) {
	byVer, byKey := map[string]string{}, map[string]string{}
	for _, l := range ap.leaving {
		f.ix.walk(l, func(p string, e *entry) {
			if e.Kind == kindFile {
				byVer[string(e.id[:e.idLen])] = p
			} else {
				byKey[string(e.Key())] = p
			}
		})
	}
	if len(byVer)+len(byKey) == 0 {
		return false, nil
	}
	newDirs := map[string]want{}
	for _, w := range ap.dirs {
		newDirs[w.rel] = w
	}
	// ensureParents makes the new folders a move goes into.
	ensureParents := func(rel string) error {
		var ws []want
		for d, _ := parent(rel); d != ""; d, _ = parent(d) {
			if w, ok := newDirs[d]; ok && f.ix.get(d) == nil {
				ws = append(ws, w)
			}
		}
		slices.Reverse(ws)
		return f.makeDirs(ctx, ws, blocked)
	}
	if dirsToo && len(byKey) > 0 {
		slices.SortFunc(ap.dirs, func(a, b want) int { return cmpPath(a.rel, b.rel) })
		var done []string
		for _, w := range ap.dirs {
			src, ok := byKey[string(keyHash(w.ve.Key))]
			if !ok || slices.ContainsFunc(done, func(d string) bool { return under(w.rel, d) || under(src, d) }) {
				continue
			}
			if err := ensureParents(w.rel); err != nil {
				return false, err
			}
			ok, err := f.moveOnDisk(ctx, src, w.rel, blocked)
			if err != nil {
				return false, err
			}
			if ok {
				done = append(done, w.rel, src)
				moved = true
			}
		}
		if moved {
			return true, nil
		}
	}
	var rest []want
	for _, w := range ap.files {
		if src, ok := byVer[w.ve.CID.KeyString()]; ok {
			delete(byVer, w.ve.CID.KeyString())
			if err := ensureParents(w.rel); err != nil {
				return false, err
			}
			ok, err := f.moveOnDisk(ctx, src, w.rel, blocked)
			if err != nil {
				return false, err
			}
			if ok {
				ap.leaving = slices.DeleteFunc(ap.leaving, func(l string) bool { return l == src })
				continue
			}
		}
		rest = append(rest, w)
	}
	ap.files = rest
	return false, nil
}
