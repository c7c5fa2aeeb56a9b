package vault

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Merge joins two diverged heads into a snapshot whose parents are both:
// a three-way merge of their trees against their merge base (several
// best common ancestors are first merged into a virtual base). A change
// on one side wins over no change on the other; an edit wins over a
// delete; two different edits of one file keep both, the older renamed
// NAME.sync-conflict-YYYYMMDD-HHMMSS-DEVICE.EXT; a file and a folder of
// one name keep the folder and rename the file so. The result depends
// only on the two heads, not on which is whose: every device that merges
// them writes the same snapshot.
func (v *Vault) Merge(ctx context.Context, a, b *Snapshot) (*Snapshot, error) {
	if a.CID.KeyString() > b.CID.KeyString() {
		a, b = b, a
	}
	ms := v.newMergeState()
	base, reals, err := ms.base(ctx, a, b)
	if err != nil {
		return nil, err
	}
	root, err := ms.mergeTrees(ctx, base, reals, a, b)
	if err != nil {
		return nil, err
	}
	if err := ms.persist(ctx, root); err != nil {
		return nil, err
	}
	// A merge is nobody's edit: no device, the later of its parents' times.
	return v.commit(ctx, &Tree{v: v, root: root}, []*Snapshot{a, b}, "", max(a.Time, b.Time))
}

// same reports whether two entries (nil: absent) are the same.
func same(x, y *entry) bool {
	if x == nil || y == nil {
		return x == y
	}
	return x.Kind == y.Kind && x.CID.Equals(y.CID) && x.Key == y.Key
}

// mergeDirs merges the folder at p; base may be nil, ours and theirs are
// both present.
func (v *Vault) mergeDirs(ctx context.Context, base, ours, theirs *dir, p string, reals *realBases) (*dir, error) {
	if ours.cid.Equals(theirs.cid) && ours.key == theirs.key {
		return ours, nil
	}
	if base != nil && base.key == ours.key && base.cid.Equals(ours.cid) {
		return theirs, nil
	}
	if base != nil && base.key == theirs.key && base.cid.Equals(theirs.cid) {
		return ours, nil
	}
	list := func(d *dir) (map[string]*entry, error) {
		m := map[string]*entry{}
		if d == nil {
			return m, nil
		}
		es, err := d.list(ctx)
		for _, e := range es {
			m[e.Name] = e
		}
		return m, err
	}
	bm, err := list(base)
	if err != nil {
		return nil, err
	}
	om, err := list(ours)
	if err != nil {
		return nil, err
	}
	tm, err := list(theirs)
	if err != nil {
		return nil, err
	}
	key := ours.key
	if bytes.Compare(theirs.key[:], key[:]) < 0 {
		key = theirs.key
	}
	out := v.newDir(key, p)
	names := map[string]bool{}
	for _, m := range []map[string]*entry{om, tm} {
		for n := range m {
			names[n] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	taken := func(n string) bool { return names[n] }
	put := func(e *entry, name string) error {
		// A merge never writes a name the tree would refuse: every
		// device would write the same unreadable folder.
		if err := checkName(name); err != nil {
			return fmt.Errorf("failed to merge %s: %w", p, err)
		}
		ne := *e
		ne.Name = name
		_, err := out.put(ctx, &ne)
		return err
	}
	// putCopy keeps e, which lost its name, as a conflict copy.
	putCopy := func(e *entry) error {
		name, err := v.conflictName(ctx, e, taken)
		if err != nil {
			return err
		}
		names[name] = true
		return put(e, name)
	}
	for _, n := range sorted {
		b, o, t := bm[n], om[n], tm[n]
		if b != nil && b.Kind == KindFile && !same(o, b) && !same(t, b) {
			var err error
			if o, t, err = v.superseded(ctx, b, o, t, path.Join(p, n)); err != nil {
				return nil, err
			}
		}
		// Against a virtual base, an entry only one side holds, as a
		// real base held it there, is no change (keptFromReal).
		if (o == nil) != (t == nil) && reals != nil {
			kept := o
			if kept == nil {
				kept = t
			}
			if !same(kept, b) {
				stays, err := v.keptFromReal(ctx, b, kept, path.Join(p, n), reals, n)
				if err != nil {
					return nil, err
				}
				if stays == nil {
					continue
				}
				if b == nil {
					if err := put(stays, n); err != nil {
						return nil, err
					}
					continue
				}
			}
		}
		var err error
		switch {
		case same(o, t):
			err = put(o, n)
		case same(o, b):
			if t != nil {
				err = put(t, n)
			}
		case same(t, b):
			if o != nil {
				err = put(o, n)
			}
		case b != nil && b.Kind == KindDir && isDir(o) != isDir(t):
			// One side removed a folder the other changed, or put a
			// file in its place: of what the folder holds, keep what
			// the other changed (an edit wins over a delete, entry by
			// entry), not what it left as it was. A file in its place
			// keeps the name if nothing stays, else it is a conflict
			// copy beside the folder.
			kept, other := o, t
			if !isDir(kept) {
				kept, other = t, o
			}
			cp := path.Join(p, n)
			sub, merr := v.mergeDirs(ctx, v.storedDir(b.CID, b.Key, cp), v.newDir(kept.Key, cp), v.storedDir(kept.CID, kept.Key, cp), cp, reals.child(n))
			if merr != nil {
				return nil, merr
			}
			switch {
			case sub.count == 0 && other != nil:
				err = put(other, n)
			case sub.count > 0:
				err = put(&entry{Entry: Entry{Name: n, Kind: KindDir, CID: sub.cid, Key: sub.key, Mtime: kept.Mtime, Mode: kept.Mode}, sub: sub}, n)
				if err == nil && other != nil {
					err = putCopy(other)
				}
			}
		case o == nil:
			err = put(t, n) // an edit wins over a delete
		case t == nil:
			err = put(o, n)
		case o.Kind == KindDir && t.Kind == KindDir:
			var bsub *dir
			if b != nil && b.Kind == KindDir {
				bsub = v.storedDir(b.CID, b.Key, path.Join(p, n))
			}
			sub, merr := v.mergeDirs(ctx, bsub, v.storedDir(o.CID, o.Key, path.Join(p, n)), v.storedDir(t.CID, t.Key, path.Join(p, n)), path.Join(p, n), reals.child(n))
			if merr != nil {
				return nil, merr
			}
			err = put(&entry{Entry: Entry{Name: n, Kind: KindDir, CID: sub.cid, Key: sub.key, Mtime: max(o.Mtime, t.Mtime), Mode: o.Mode}, sub: sub}, n)
		default:
			win, lose, werr := v.conflictOrder(ctx, o, t, path.Join(p, n))
			if werr != nil {
				return nil, werr
			}
			if err = put(win, n); err == nil {
				err = putCopy(lose)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// superseded returns o and t with a side that holds a file version the
// base's version b follows (within prevSteps prev links) taken as holding
// b: that side made no change there. No device writes an older version
// back (a restore writes a new one following the current), so a side
// holds one only through merges, against a virtual base that moved an
// edit to where the side kept the unedited file (a move wins over the
// removal of the edit). Counted as a change, the older version won over
// the other side's later removal and came back (TestMergeHistories
// -merge.long seed 320). When both sides hold older versions, neither is
// taken for b.
func (v *Vault) superseded(ctx context.Context, b, o, t *entry, p string) (*entry, *entry, error) {
	isFile := func(e *entry) bool { return e != nil && e.Kind == KindFile }
	if !isFile(o) && !isFile(t) {
		return o, t, nil
	}
	chain, err := v.prevChain(ctx, b, p)
	if err != nil {
		return nil, nil, err
	}
	older := func(e *entry) bool { return isFile(e) && slices.Contains(chain, identity(e)) }
	switch oo, to := older(o), older(t); {
	case oo && !to:
		o = b
	case to && !oo:
		t = b
	}
	return o, t, nil
}

// isDir reports whether e is present and a folder.
func isDir(e *entry) bool { return e != nil && e.Kind == KindDir }

// conflictOrder decides which of two entries of one name keeps it: a
// folder over a file, else the newer version (then the greater CID).
func (v *Vault) conflictOrder(ctx context.Context, o, t *entry, p string) (win, lose *entry, err error) {
	if o.Kind != t.Kind {
		if o.Kind == KindDir {
			return o, t, nil
		}
		return t, o, nil
	}
	ov, err := v.OpenFileWithKey(ctx, o.CID, o.Key, p)
	if err != nil {
		return nil, nil, err
	}
	tv, err := v.OpenFileWithKey(ctx, t.CID, t.Key, p)
	if err != nil {
		return nil, nil, err
	}
	if ov.Time > tv.Time || (ov.Time == tv.Time && o.CID.KeyString() > t.CID.KeyString()) {
		return o, t, nil
	}
	return t, o, nil
}

// MergeAll joins any number of heads: the ones that are no other's
// ancestor, sorted by CID, merged left to right. Devices that know the same
// heads get the same snapshot, whatever order the heads reached them in, so
// several devices that changed the vault at once converge in one round
// instead of merging different pairs forever. With one head left it is
// returned as it is.
func (v *Vault) MergeAll(ctx context.Context, heads []*Snapshot) (*Snapshot, error) {
	var uniq []*Snapshot
	for _, h := range heads {
		if !slices.ContainsFunc(uniq, func(u *Snapshot) bool { return u.CID.Equals(h.CID) }) {
			uniq = append(uniq, h)
		}
	}
	var top []*Snapshot
	for _, h := range uniq {
		covered := false
		for _, d := range uniq {
			if d == h {
				continue
			}
			ok, err := v.isAncestor(ctx, h, d)
			if err != nil {
				return nil, err
			}
			if ok {
				covered = true
				break
			}
		}
		if !covered {
			top = append(top, h)
		}
	}
	if len(top) == 0 {
		return nil, fmt.Errorf("no heads to merge")
	}
	slices.SortFunc(top, func(x, y *Snapshot) int { return strings.Compare(x.CID.KeyString(), y.CID.KeyString()) })
	m := top[0]
	for _, h := range top[1:] {
		var err error
		if m, err = v.Merge(ctx, m, h); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// realBases are the folders at one path of the best common ancestors a
// virtual base merged, found only when asked for (nil: the base is one
// snapshot's tree, or a folder outside the virtual base's).
type realBases struct {
	up   *realBases
	name string
	done bool
	dirs []*dir // nil where that base has no folder there
}

// child returns the real bases' folders named name below r's.
func (r *realBases) child(name string) *realBases {
	if r == nil {
		return nil
	}
	return &realBases{up: r, name: name}
}

// resolve finds r's folders, reading only the way down to them.
func (r *realBases) resolve(ctx context.Context, v *Vault, p string) ([]*dir, error) {
	if r.done {
		return r.dirs, nil
	}
	ups, err := r.up.resolve(ctx, v, path.Dir(p))
	if err != nil {
		return nil, err
	}
	r.dirs = make([]*dir, len(ups))
	for i, u := range ups {
		if u == nil {
			continue
		}
		e, err := u.get(ctx, r.name)
		if err != nil {
			return nil, err
		}
		if isDir(e) {
			r.dirs[i] = v.storedDir(e.CID, e.Key, p)
		}
	}
	r.done = true
	return r.dirs, nil
}

// keptFromReal decides an entry e at p (name n in the folder reals are
// at) that one side holds, the other side does not, and the virtual base
// holds as b (nil: nothing) of another identity. If a best common
// ancestor holds e itself there, the side kept it as that real base had
// it, and the virtual base's merges took it elsewhere or replaced it (a
// move followed there, the other one of a conflict keeping the name): it
// is no change, and the other side removed it (nil). Counted as an
// addition or an edit, it won over that removal and came back
// (TestMergeHistories seeds 834, 1630, 2568, 2825). Where b is nil, e is
// a folder and a real base holds a folder there, what e changed of it
// stays, as when a folder is removed on one side and changed on the
// other. Else it returns e, to be merged as usual.
func (v *Vault) keptFromReal(ctx context.Context, b, e *entry, p string, reals *realBases, n string) (*entry, error) {
	dirs, err := reals.resolve(ctx, v, path.Dir(p))
	if err != nil {
		return nil, err
	}
	var rs []*entry
	for _, d := range dirs {
		if d == nil {
			continue
		}
		r, err := d.get(ctx, n)
		if err != nil {
			return nil, err
		}
		if r == nil {
			continue
		}
		if same(r, e) {
			return nil, nil
		}
		rs = append(rs, r)
	}
	if b != nil || !isDir(e) {
		return e, nil
	}
	for _, r := range rs {
		if !isDir(r) {
			continue
		}
		sub, err := v.mergeDirs(ctx, v.storedDir(r.CID, r.Key, p), v.newDir(e.Key, p), v.storedDir(e.CID, e.Key, p), p, nil)
		if err != nil {
			return nil, err
		}
		if sub.count == 0 {
			return nil, nil
		}
		return &entry{Entry: Entry{Name: n, Kind: KindDir, CID: sub.cid, Key: sub.key, Mtime: e.Mtime, Mode: e.Mode}, sub: sub}, nil
	}
	return e, nil
}
