package folder

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"

	cid "github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/vault"
)

// errRetry: the vault changed between planning and committing a scan;
// the paths are scanned again.
var errRetry = errors.New("the vault changed while committing; scanning again")

// conflict is a path the disk and the vault both changed since the
// index: it goes to the vault as a second head, for the merge to decide.
type conflict struct {
	rel string
	fv  *vault.FileVersion // nil for a folder
	st  diskStat
}

// keyHash identifies a vault folder by its key without keeping the key.
func keyHash(k [32]byte) []byte {
	h := sha256.Sum256(k[:])
	return h[:16]
}

// commit makes one snapshot of what the scan found (one Change); paths
// the vault also changed since the index go into a second head that the
// account merges with its own, so the vault's merge rules decide them
// the same way on every device. Then it updates the index.
func (f *folder) commit(ctx context.Context, p *scanPlan) error {
	f.setState(StateSyncing)
	var seq uint64
	if h := f.acct.Head(); h != nil {
		seq = h.Seq
	}
	var (
		results   map[string]entry
		conflicts []conflict
		journaled []string
	)
	pre, release, err := f.prepareBig(ctx, p.files)
	defer release()
	if err != nil {
		return fmt.Errorf("failed to commit the changes in %s: %w", f.cfg.Dir, err)
	}
	_, err = f.acct.Change(ctx, false, func(ctx context.Context, t *vault.Tree) error {
		results, conflicts, journaled = map[string]entry{}, nil, nil
		batch := vault.NewBatch(f.acct.Vault().Blocks(), 8<<20)
		v := f.acct.Vault().WithBlocks(batch)
		for _, m := range p.moves {
			if !f.vaultHolds(ctx, t, m.from, &m.old) || f.vaultHas(ctx, t, m.to) {
				return errRetry
			}
			if err := t.Move(ctx, f.vp(m.from), f.vp(m.to)); err != nil {
				return err
			}
		}
		for _, d := range p.dirs {
			ve, err := t.Stat(ctx, f.vp(d.rel))
			switch {
			case errors.Is(err, vault.ErrNotExist):
				if err := t.Mkdir(ctx, f.vp(d.rel), true, d.st.Mtime); err != nil {
					return err
				}
			case err != nil || ve.Kind != vault.KindDir:
				conflicts = append(conflicts, conflict{rel: d.rel, st: d.st})
			}
		}
		w := &writes{id: f.id}
		for _, fc := range p.files {
			if err := f.commitFile(ctx, t, v, fc, pre, seq, results, &conflicts, w); err != nil {
				return err
			}
			if _, ok := results[fc.rel]; ok {
				journaled = append(journaled, fc.rel)
			}
		}
		for _, r := range p.removes {
			if err := f.removeInVault(ctx, t, r); err != nil {
				return err
			}
		}
		if err := batch.Flush(ctx); err != nil {
			return err
		}
		// Durable before the head names the versions: a crash after the
		// commit finds them (recover.go).
		return w.commit(ctx, f.ds)
	})
	if errors.Is(err, errRetry) {
		f.rescan()
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to commit the changes in %s: %w", f.cfg.Dir, err)
	}
	if len(conflicts) > 0 {
		// The conflicting versions are named by no head until the
		// fork's merge.
		for _, c := range conflicts {
			if c.fv != nil {
				defer f.acct.Hold(c.fv.CID)()
			}
		}
		if err := f.fork(ctx, conflicts); err != nil {
			return err
		}
		for _, c := range conflicts {
			if c.fv != nil {
				results[c.rel] = verEntry(c.fv.CID).withStat(c.st)
				journaled = append(journaled, c.rel)
			}
		}
	}
	return f.record(ctx, p, results, conflicts, journaled)
}

// bigFile is the size from which a changed file is read into the vault
// before the change, not inside it: the change holds the account's
// lock, and a big file would hold up every other change (merges,
// WebDAV, other folders) while it is encrypted.
const bigFile = 4 << 20

// prepareBig reads the big files of files into the vault ahead of the
// change, held from GC until release is called. A file that changed
// while it was read maps to nil (it is scanned again).
func (f *folder) prepareBig(ctx context.Context, files []fileChange) (map[string]*vault.FileVersion, func(), error) {
	pre := map[string]*vault.FileVersion{}
	var releases []func()
	release := func() {
		for _, r := range releases {
			r()
		}
	}
	for _, fc := range files {
		if fc.st.Size < bigFile {
			continue
		}
		r, err := f.acct.Prepare(ctx, func(ctx context.Context) (cid.Cid, error) {
			batch := vault.NewBatch(f.acct.Vault().Blocks(), 8<<20)
			fv, ok, err := f.readFile(ctx, f.acct.Vault().WithBlocks(batch), fc, fc.prev())
			if err == nil {
				err = batch.Flush(ctx)
			}
			if err != nil || !ok {
				pre[fc.rel] = nil
				return cid.Undef, err
			}
			pre[fc.rel] = fv
			f.hook("read", fc.rel)
			return fv.CID, nil
		})
		releases = append(releases, r)
		if err != nil {
			return nil, release, err
		}
	}
	return pre, release, nil
}

// prev is the version the index says the disk held at the path.
func (fc fileChange) prev() cid.Cid {
	if fc.old != nil && fc.old.Kind == kindFile {
		return fc.old.Ver()
	}
	return cid.Undef
}

// commitFile reads one changed file into the vault (or takes what
// prepareBig read), unless the vault already holds that content there.
func (f *folder) commitFile(ctx context.Context, t *vault.Tree, v *vault.Vault, fc fileChange, pre map[string]*vault.FileVersion, seq uint64, results map[string]entry, conflicts *[]conflict, w *writes) error {
	prev := fc.prev()
	fv, done := pre[fc.rel]
	if !done {
		var err error
		if fv, _, err = f.readFile(ctx, v, fc, prev); err != nil {
			return err
		}
	}
	if fv == nil {
		return nil
	}
	vp := f.vp(fc.rel)
	ve, err := t.Stat(ctx, vp)
	put := false
	switch {
	case errors.Is(err, vault.ErrNotExist):
		put = true
	case err != nil || ve.Kind != vault.KindFile:
		*conflicts = append(*conflicts, conflict{rel: fc.rel, fv: fv, st: fc.st})
		return nil
	case prev.Defined() && ve.CID.Equals(prev):
		put = true
	}
	if ve.Kind == vault.KindFile {
		cur, err := v.OpenFileWithKey(ctx, ve.CID, ve.Key, vp)
		if err != nil {
			return err
		}
		if cur.Hash == fv.Hash && (!put || (cur.Mode == fv.Mode && cur.Mtime == fv.Mtime)) {
			// Same content: the disk holds the vault's version.
			results[fc.rel] = verEntry(ve.CID).withStat(fc.st)
			return nil
		}
		if !put {
			*conflicts = append(*conflicts, conflict{rel: fc.rel, fv: fv, st: fc.st})
			return nil
		}
	}
	if err := t.PutFile(ctx, vp, fv); err != nil {
		return err
	}
	e := verEntry(fv.CID).withStat(fc.st)
	results[fc.rel] = e
	w.setJournal(fc.rel, &journal{Op: opScan, Before: fc.old, After: &e, Seq: seq})
	return nil
}

// readFile writes the file on disk as a new vault version. ok is false
// when the file changed meanwhile: it is queued for another scan.
func (f *folder) readFile(ctx context.Context, v *vault.Vault, fc fileChange, prev cid.Cid) (*vault.FileVersion, bool, error) {
	fh, err := os.OpenFile(f.abs(fc.rel), os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		f.markDirty(fc.rel, nowFunc())
		return nil, false, nil
	}
	defer fh.Close()
	same := func() bool {
		fi, err := fh.Stat()
		return err == nil && statOf(fi) == fc.st
	}
	if !same() {
		f.markDirty(fc.rel, nowFunc())
		return nil, false, nil
	}
	_, name := parent(fc.rel)
	fv, err := v.WriteFile(ctx, fh, vault.FileInput{Name: name, Mode: fc.st.Mode, Mtime: fc.st.Mtime, Prev: prev})
	if err != nil {
		return nil, false, fmt.Errorf("failed to read %s: %w", f.abs(fc.rel), err)
	}
	if !same() || fv.Size != uint64(fc.st.Size) {
		f.markDirty(fc.rel, nowFunc())
		return nil, false, nil
	}
	return fv, true, nil
}

// removeInVault removes what the disk no longer has, if the vault still
// holds what the index says the disk had: a file another device changed
// meanwhile stays (an edit wins over a delete), and so does a folder
// that still holds anything.
func (f *folder) removeInVault(ctx context.Context, t *vault.Tree, r removal) error {
	old := &r.old
	vp := f.vp(r.rel)
	ve, err := t.Stat(ctx, vp)
	if err != nil {
		return nil
	}
	if ve.Kind == vault.KindFile {
		if old.Kind == kindFile && old.isVer(ve.CID) {
			_, err = t.Remove(ctx, vp)
		}
		return err
	}
	es, err := t.List(ctx, vp)
	if err != nil || len(es) > 0 {
		return err
	}
	_, err = t.Remove(ctx, vp)
	return err
}

// fork commits the conflicting paths as a snapshot of their own, without
// parents, holding the head's folders on the way to them (same keys) and
// nothing else, and has the account merge it with its head: against an
// empty base, every other path is the head's, and each conflicting path
// holds two entries, which the vault's merge rules decide (a conflict
// copy named the same on every device) unless they are equal.
func (f *folder) fork(ctx context.Context, cs []conflict) error {
	t, err := f.acct.ReadTree()
	if err != nil {
		return err
	}
	want, anc := map[string]bool{}, map[string]bool{}
	for _, c := range cs {
		vp := f.vp(c.rel)
		want[vp] = true
		for p := path.Dir(vp); ; p = path.Dir(p) {
			anc[p] = true
			if p == "/" {
				break
			}
		}
	}
	if err := prune(ctx, t, "/", want, anc); err != nil {
		return err
	}
	slices.SortFunc(cs, func(a, b conflict) int { return cmpPath(a.rel, b.rel) })
	for _, c := range cs {
		vp := f.vp(c.rel)
		if c.fv == nil {
			err = t.Mkdir(ctx, vp, true, c.st.Mtime)
		} else {
			err = t.PutFile(ctx, vp, c.fv)
		}
		if err != nil {
			return fmt.Errorf("failed to keep both sides of %s: %w", vp, err)
		}
	}
	s, err := f.acct.Vault().Commit(ctx, t)
	if err != nil {
		return fmt.Errorf("failed to keep both sides of a conflict: %w", err)
	}
	if err := f.acct.Integrate(ctx, []cid.Cid{s.CID}); err != nil {
		return fmt.Errorf("failed to merge a conflict: %w", err)
	}
	f.log.Info("changed here and on another device: merged", "dir", f.cfg.Dir, "paths", len(cs))
	return nil
}

// prune removes from the tree at dir everything that is neither on the
// way to a wanted path nor wanted (wanted paths are removed too, and put
// back by the caller).
func prune(ctx context.Context, t *vault.Tree, dir string, want, anc map[string]bool) error {
	es, err := t.List(ctx, dir)
	if err != nil {
		return err
	}
	for _, e := range es {
		p := path.Join(dir, e.Name)
		if anc[p] && e.Kind == vault.KindDir && !want[p] {
			if err := prune(ctx, t, p, want, anc); err != nil {
				return err
			}
			continue
		}
		if _, err := t.Remove(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// cmpPath orders paths so that a folder comes before what it holds.
func cmpPath(a, b string) int {
	if c := len(splitRel(a)) - len(splitRel(b)); c != 0 {
		return c
	}
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}
