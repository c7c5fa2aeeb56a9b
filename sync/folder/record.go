package folder

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/peer-cloud/peer/vault"
)

var nowFunc = time.Now

// splitRel returns the names of a relative path.
func splitRel(rel string) []string {
	if rel == "" {
		return nil
	}
	return strings.Split(rel, "/")
}

// untree forgets that the folders holding rel were in sync: the index
// changed below them.
func (f *folder) untree(rel string) {
	for {
		delete(f.trees, rel)
		if rel == "" {
			return
		}
		rel, _ = parent(rel)
	}
}

// record updates the index after a scan's commit.
func (f *folder) record(ctx context.Context, p *scanPlan, results map[string]entry, conflicts []conflict, journaled []string) error {
	w := &writes{id: f.id}
	tree, err := f.acct.ReadTree()
	if err != nil {
		return err
	}
	for _, m := range p.moves {
		olds, news := f.ix.move(m.from, m.to)
		for i := range olds {
			w.setEntry(olds[i], nil)
			w.setEntry(news[i], f.ix.get(news[i]))
		}
		e := m.old.withStat(m.st)
		f.ix.set(m.to, e)
		w.setEntry(m.to, &e)
		f.untree(m.from)
		f.untree(m.to)
	}
	for _, r := range p.removes {
		for _, q := range f.ix.del(r.rel) {
			w.setEntry(q, nil)
		}
		f.untree(r.rel)
	}
	for _, r := range p.forget {
		for _, q := range f.ix.del(r) {
			w.setEntry(q, nil)
		}
		f.untree(r)
	}
	dirs := append([]seen(nil), p.dirs...)
	for _, c := range conflicts {
		if c.fv == nil {
			dirs = append(dirs, seen{c.rel, c.st})
		}
	}
	for _, d := range dirs {
		ve, err := tree.Stat(ctx, f.vp(d.rel))
		if err != nil || ve.Kind != vault.KindDir {
			continue
		}
		e := keyEntry(keyHash(ve.Key)).withStat(d.st)
		f.ix.set(d.rel, e)
		w.setEntry(d.rel, &e)
		f.untree(d.rel)
	}
	rels := make([]string, 0, len(results))
	for rel := range results {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		e := results[rel]
		f.ix.set(rel, e)
		w.setEntry(rel, &e)
		f.untree(rel)
	}
	for _, rel := range journaled {
		w.setJournal(rel, nil)
	}
	return w.commit(ctx, f.ds)
}

// recover resolves the journal a crash left: a file renamed into place
// is recorded, one that was not is left for a scan (the index still
// holds what the disk had); a scanned change the vault holds is
// recorded, one it does not is scanned again.
func (f *folder) recover(ctx context.Context) error {
	type rec struct {
		rel string
		j   journal
	}
	var recs []rec
	err := loadRecords(ctx, f.ds, journalPrefix(f.id), func(rel string, v []byte) error {
		j, err := unmarshalJournal(v)
		if err != nil {
			f.log.Warn("dropping a damaged journal record", "dir", f.cfg.Dir, "path", rel, "err", err)
		}
		recs = append(recs, rec{rel, j})
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to read the folder's journal: %w", err)
	}
	if len(recs) == 0 {
		return nil
	}
	// Moves first: what they move may be recorded below.
	sort.SliceStable(recs, func(i, k int) bool { return recs[i].j.From != "" && recs[k].j.From == "" })
	tree, err := f.acct.ReadTree()
	if err != nil {
		return err
	}
	w := &writes{id: f.id}
	for _, r := range recs {
		w.setJournal(r.rel, nil)
		if checkRel(r.rel) != nil || r.j.After == nil {
			continue
		}
		switch r.j.Op {
		case opScan:
			if f.vaultHolds(ctx, tree, r.rel, r.j.After) {
				f.ix.set(r.rel, *r.j.After)
				w.setEntry(r.rel, r.j.After)
			}
		case opApply:
			st, ok, err := lstat(f.abs(r.rel))
			if err != nil && !errors.Is(err, errOutside) {
				return err
			}
			a := r.j.After
			if !ok || !a.sameDisk(st) || a.Inode != st.Inode {
				continue // not renamed, or changed since: a scan looks at it
			}
			if r.j.From != "" && checkRel(r.j.From) == nil {
				olds, news := f.ix.move(r.j.From, r.rel)
				for i := range olds {
					w.setEntry(olds[i], nil)
					w.setEntry(news[i], f.ix.get(news[i]))
				}
			}
			f.ix.set(r.rel, *a)
			w.setEntry(r.rel, a)
		}
	}
	f.log.Info("finished what a crash interrupted", "dir", f.cfg.Dir, "paths", len(recs))
	return w.commit(ctx, f.ds)
}
