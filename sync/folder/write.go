package folder

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Batches of files written from the vault: their journal records are
// synced once per batch.
const (
	writeBatchFiles = 256
	writeBatchBytes = 64 << 20
)

// hook lets tests stop at a stage of writing (a crash).
func (f *folder) hook(stage, rel string) {
	if f.opts.hook != nil {
		f.opts.hook(stage, rel)
	}
}

// localChange notes a path the disk changed since the last scan, so it
// is left alone and scanned.
func (f *folder) localChange(rel, why string, blocked map[string]string) {
	blocked[rel] = why
	f.markDirty(rel, nowFunc())
}

// inTheWay explains what stands at a path the index does not know.
func inTheWay(st diskStat) string {
	if st.Other != "" {
		return "a " + st.Other + " is in the way: not written"
	}
	return "it was changed here and is not scanned yet: left as it is, scanned next"
}

// unchanged reports whether the disk still holds at rel what the index
// says (nothing, when e is nil).
func (f *folder) unchanged(rel string, e *entry) (bool, diskStat, error) {
	st, ok, err := lstat(f.abs(rel))
	if err != nil {
		return false, st, err
	}
	if e == nil {
		return !ok, st, nil
	}
	return ok && e.sameDisk(st), st, nil
}

// moveOnDisk renames src to dst, as the vault moved it. ok is false when
// the disk is not as the index says (the move is then a removal and a
// write, each checked in turn).
func (f *folder) moveOnDisk(ctx context.Context, src, dst string, blocked map[string]string) (bool, error) {
	e := f.ix.get(src)
	if e == nil || realParents(f.cfg.Dir, src) != nil || realParents(f.cfg.Dir, dst) != nil {
		return false, nil
	}
	same, st, err := f.unchanged(src, e)
	if err != nil {
		return false, err
	}
	if !same || st.Inode != e.Inode {
		return false, nil
	}
	caseOnly := false
	dt, exists, err := lstat(f.abs(dst))
	if err != nil {
		return false, err
	}
	if exists {
		if !f.insensitive || dt.Inode != st.Inode {
			f.localChange(dst, inTheWay(dt), blocked)
			return false, nil
		}
		caseOnly = true
	}
	ne := *e
	w := &writes{id: f.id}
	w.setJournal(dst, &journal{Op: opApply, After: &ne, From: src})
	if err := w.commit(ctx, f.ds); err != nil {
		return false, err
	}
	f.hook("journaled", dst)
	if caseOnly {
		err = os.Rename(f.abs(src), f.abs(dst))
	} else {
		err = renameNew(f.abs(src), f.abs(dst))
	}
	if err != nil {
		w.setJournal(dst, nil)
		if cerr := w.commit(ctx, f.ds); cerr != nil {
			return false, cerr
		}
		if errors.Is(err, fs.ErrExist) {
			f.localChange(dst, "it appeared here while it was being written: left as it is, scanned next", blocked)
			return false, nil
		}
		return false, fmt.Errorf("failed to move %s to %s: %w", f.abs(src), f.abs(dst), err)
	}
	f.hook("renamed", dst)
	sd, _ := parent(src)
	dd, _ := parent(dst)
	for _, d := range []string{sd, dd} {
		if err := syncDir(f.abs(d)); err != nil {
			return false, err
		}
	}
	olds, news := f.ix.move(src, dst)
	for i := range olds {
		w.setEntry(olds[i], nil)
		w.setEntry(news[i], f.ix.get(news[i]))
	}
	w.setJournal(dst, nil)
	f.untree(src)
	f.untree(dst)
	return true, w.commit(ctx, f.ds)
}

// makeDirs makes the folders the vault has and the disk lacks.
func (f *folder) makeDirs(ctx context.Context, ws []want, blocked map[string]string) error {
	slices.SortFunc(ws, func(a, b want) int { return cmpPath(a.rel, b.rel) })
	w := &writes{id: f.id}
	synced := map[string]bool{}
	for _, d := range ws {
		if e := f.ix.get(d.rel); e != nil && e.Kind == kindDir {
			continue
		}
		if err := realParents(f.cfg.Dir, d.rel); err != nil {
			blocked[d.rel] = "its folder is not there: " + err.Error()
			continue
		}
		st, ok, err := lstat(f.abs(d.rel))
		if err != nil {
			return err
		}
		switch {
		case ok && st.Kind != kindDir:
			f.localChange(d.rel, inTheWay(st), blocked)
			continue
		case !ok:
			if err := os.Mkdir(f.abs(d.rel), fs.FileMode(d.ve.Mode&0o777|0o700)); err != nil {
				return fmt.Errorf("failed to make %s: %w", f.abs(d.rel), err)
			}
			if st, _, err = lstat(f.abs(d.rel)); err != nil {
				return err
			}
		}
		pd, _ := parent(d.rel)
		if !synced[pd] {
			synced[pd] = true
			if err := syncDir(f.abs(pd)); err != nil {
				return err
			}
		}
		e := keyEntry(keyHash(d.ve.Key)).withStat(st)
		f.ix.set(d.rel, e)
		w.setEntry(d.rel, &e)
	}
	return w.commit(ctx, f.ds)
}

// prepared is a file written to its temporary name, to rename into place.
type prepared struct {
	w      want
	tmp    string
	before *entry
	after  entry
}

// writeFiles writes files from the vault in batches: each to a temporary
// file beside its target (writeWorkers at once), all synced together
// (one fsync each, one at a time, kept 10 000 small files at 150
// files/s); then the batch's journal; then each target is checked
// against the index and the temporary file renamed over it; then the
// folders are synced and the index updated.
func (f *folder) writeFiles(ctx context.Context, ws []want, blocked map[string]string) error {
	for len(ws) > 0 {
		var batch []prepared
		var bytes uint64
		for len(ws) > 0 && len(batch) < writeBatchFiles && bytes < writeBatchBytes {
			w := ws[0]
			ws = ws[1:]
			p, ok, err := f.prepare(w, blocked)
			if err != nil {
				return err
			}
			if ok {
				batch = append(batch, p)
				bytes += w.ve.Size
			}
		}
		batch = f.writeTemps(ctx, batch, blocked)
		if err := f.placeBatch(ctx, batch, blocked); err != nil {
			return err
		}
	}
	return nil
}

// writeWorkers is how many temporary files are written at once.
const writeWorkers = 8

// writeTemps writes the batch's temporary files, writeWorkers at once,
// and syncs them together; it returns those written, and reports the
// others in blocked.
func (f *folder) writeTemps(ctx context.Context, batch []prepared, blocked map[string]string) []prepared {
	errs := make([]error, len(batch))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(writeWorkers, len(batch)) {
		wg.Go(func() {
			for i := range next {
				st, err := f.writeTemp(ctx, batch[i].w, batch[i].tmp)
				batch[i].after = verEntry(batch[i].w.ve.CID).withStat(st)
				errs[i] = err
			}
		})
	}
	for i := range batch {
		next <- i
	}
	close(next)
	wg.Wait()
	var written []string
	for i, p := range batch {
		if errs[i] == nil {
			written = append(written, p.tmp)
		}
	}
	if err := syncFiles(written); err != nil {
		for i := range batch {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	out := batch[:0]
	for i, p := range batch {
		if errs[i] != nil {
			os.Remove(p.tmp)
			blocked[p.w.rel] = "failed to write it: " + errs[i].Error()
			continue
		}
		out = append(out, p)
	}
	return out
}

// prepare checks that the target of w is as the index says and names
// its temporary file.
func (f *folder) prepare(w want, blocked map[string]string) (prepared, bool, error) {
	p := prepared{w: w}
	if err := realParents(f.cfg.Dir, w.rel); err != nil {
		blocked[w.rel] = "its folder is not there: " + err.Error()
		return p, false, nil
	}
	if e := f.ix.get(w.rel); e != nil {
		if e.Kind != kindFile {
			blocked[w.rel] = "a folder that could not be removed is in the way"
			return p, false, nil
		}
		p.before = e
	}
	same, st, err := f.unchanged(w.rel, p.before)
	if err != nil {
		return p, false, err
	}
	if !same {
		f.localChange(w.rel, inTheWay(st), blocked)
		return p, false, nil
	}
	dir, name := parent(w.rel)
	p.tmp = filepath.Join(f.abs(dir), tempName(name))
	return p, true, nil
}

// writeTemp writes the vault file w into tmp, with its mode and mtime;
// the caller syncs it.
func (f *folder) writeTemp(ctx context.Context, w want, tmp string) (diskStat, error) {
	v := f.acct.Vault()
	fv, err := v.OpenFileWithKey(ctx, w.ve.CID, w.ve.Key, f.vp(w.rel))
	if err != nil {
		return diskStat{}, err
	}
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return diskStat{}, err
	}
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
	if err != nil {
		return diskStat{}, err
	}
	defer fh.Close()
	// A buffer no bigger than the file: a megabyte for each small file
	// kept the garbage collector busy.
	bw := bufio.NewWriterSize(fh, int(min(max(fv.Size, 4096), 1<<20)))
	if err := v.ReadRange(ctx, fv, bw, 0, int64(fv.Size)); err != nil {
		return diskStat{}, err
	}
	if err := bw.Flush(); err != nil {
		return diskStat{}, err
	}
	if err := fh.Chmod(fs.FileMode(fv.Mode & 0o777)); err != nil {
		return diskStat{}, err
	}
	mt := time.Unix(0, fv.Mtime)
	if err := os.Chtimes(tmp, mt, mt); err != nil {
		return diskStat{}, err
	}
	if err := fh.Close(); err != nil { // synced by the batch (syncFiles)
		return diskStat{}, err
	}
	st, _, err := lstat(tmp)
	return st, err
}

// placeBatch renames a batch of written files into place.
func (f *folder) placeBatch(ctx context.Context, batch []prepared, blocked map[string]string) error {
	if len(batch) == 0 {
		return nil
	}
	w := &writes{id: f.id}
	for _, p := range batch {
		w.setJournal(p.w.rel, &journal{Op: opApply, Before: p.before, After: &p.after})
	}
	if err := w.commit(ctx, f.ds); err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, p := range batch {
		f.hook("journaled", p.w.rel)
		w.setJournal(p.w.rel, nil)
		same, st, err := f.unchanged(p.w.rel, p.before)
		if err == nil && !same {
			os.Remove(p.tmp)
			f.localChange(p.w.rel, inTheWay(st), blocked)
			continue
		}
		if err == nil {
			if p.before == nil {
				err = renameNew(p.tmp, f.abs(p.w.rel))
			} else {
				err = os.Rename(p.tmp, f.abs(p.w.rel))
			}
		}
		if errors.Is(err, fs.ErrExist) {
			os.Remove(p.tmp)
			f.localChange(p.w.rel, "it appeared here while it was being written: left as it is, scanned next", blocked)
			continue
		}
		if err != nil {
			os.Remove(p.tmp)
			blocked[p.w.rel] = "failed to put it in place: " + err.Error()
			continue
		}
		f.hook("renamed", p.w.rel)
		d, _ := parent(p.w.rel)
		dirs[d] = true
		a := p.after
		f.ix.set(p.w.rel, a)
		w.setEntry(p.w.rel, &a)
	}
	for d := range dirs {
		if err := syncDir(f.abs(d)); err != nil {
			return err
		}
	}
	return w.commit(ctx, f.ds)
}

// removeTree removes from disk what the index holds at rel and below,
// deepest first, each only if the disk still holds it as scanned. A
// folder is removed only once empty (ignored files marked (?d) and
// temporary files are removed with it); what blocks it is reported.
func (f *folder) removeTree(ctx context.Context, rel string, blocked map[string]string) error {
	var paths []string
	f.ix.walk(rel, func(p string, _ *entry) { paths = append(paths, p) })
	slices.SortFunc(paths, func(a, b string) int { return cmpPath(b, a) })
	w := &writes{id: f.id}
	synced := map[string]bool{}
	for _, p := range paths {
		e := f.ix.get(p)
		if e == nil {
			continue
		}
		if err := realParents(f.cfg.Dir, p); err != nil {
			blocked[p] = "not removed: " + err.Error()
			continue
		}
		st, ok, err := lstat(f.abs(p))
		if err != nil {
			return err
		}
		if ok {
			if !e.sameDisk(st) {
				f.localChange(p, "changed here since the last scan: not removed, scanned next", blocked)
				continue
			}
			if e.Kind == kindDir {
				if why := f.emptyDir(p); why != "" {
					blocked[p] = why
					continue
				}
			}
			if err := os.Remove(f.abs(p)); err != nil {
				blocked[p] = "failed to remove it: " + err.Error()
				continue
			}
			if d, _ := parent(p); !synced[d] {
				synced[d] = true
				defer syncDir(f.abs(d))
			}
		}
		for _, q := range f.ix.del(p) {
			w.setEntry(q, nil)
		}
		f.untree(p)
	}
	return w.commit(ctx, f.ds)
}

// emptyDir removes what may go from the folder at rel (temporary files,
// ignored files marked deletable) and says what keeps it, if anything.
func (f *folder) emptyDir(rel string) string {
	des, err := os.ReadDir(f.abs(rel))
	if err != nil {
		return "not removed: " + err.Error()
	}
	for _, de := range des {
		c := join(rel, de.Name())
		if _, known := f.ix.ents[c]; known {
			return "not removed: it holds files changed here"
		}
		ignored, deletable := f.ign.Match(c)
		switch {
		case isTemp(de.Name()) || (ignored && deletable):
			if err := os.RemoveAll(f.abs(c)); err != nil {
				return "not removed: " + err.Error()
			}
		case ignored:
			return "not removed: it holds ignored files (mark their pattern (?d) to let them go)"
		default:
			f.markDirty(c, nowFunc())
			return "not removed: it holds files not scanned yet"
		}
	}
	return ""
}

// fsyncEach syncs each file.
func fsyncEach(paths []string) error {
	for _, p := range paths {
		fh, err := os.OpenFile(p, os.O_RDONLY|oNoFollow, 0)
		if err != nil {
			return err
		}
		err = fh.Sync()
		fh.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
