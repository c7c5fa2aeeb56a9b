package vault

import (
	"context"
	"maps"
	"path"
	"slices"
)

// Moves against edits (SPEC.md §12, "Moves"). A folder keeps its key
// through edits of what it holds and through moves, and a file moved
// unchanged keeps its version's CID: these are the identities by which a
// merge sees that a side moved something rather than removed it and
// added something else. Before the path-by-path merge, each side's moves
// are made in the base's tree and the other side's, so that the other
// side's edits of what moved land at the new place, once, instead of the
// edit keeping the old path alive beside the moved copy.

// identity names what an entry is across moves: its folder key, or its
// file version.
func identity(e *entry) string {
	if e.Kind == KindDir {
		return "d" + string(e.Key[:])
	}
	return "f" + e.CID.KeyString()
}

// sub is the folder an entry of kind dir holds.
func (v *Vault) sub(e *entry, p string) *dir {
	if e.sub != nil {
		return e.sub
	}
	return v.storedDir(e.CID, e.Key, p)
}

// loc is an entry and its path, in base or in a side.
type loc struct {
	p string
	e *entry
}

// prevSteps bounds how far back through prev links a merge looks for
// the version a side moved and then edited.
const prevSteps = 16

// findMoves compares side with base, walking only the folders that
// differ, and returns what side moved: base path -> path in side. An
// entry moved when its identity left one path of base and appeared at
// another of side, once each; a file also when the version that appeared
// follows (within prevSteps prev links) the one that left. A moved
// folder is compared with its old self, to find what moved inside it or
// out of it; while something left and something appeared that match
// nothing, the folders that left and appeared are looked into too.
//
// It also returns the base paths whose entry side holds at the very same
// path, of the same identity, though the folder around it changed key
// (stays): such an entry did not move, whatever else matched it. A merge
// that could not follow a move leaves them (the moved folder at its new
// place, its entries at the old one in a folder of another key); taken
// for a move back to the same path, or left as an addition once the base
// followed the folder, they brought back files the other side had
// removed (TestMergeHistories seeds 404, 1510).
func (v *Vault) findMoves(ctx context.Context, base, side *dir) (map[string]string, map[string]bool, error) {
	type pair struct {
		b, s   *dir // one may be nil: a folder that left or appeared
		bp, sp string
	}
	removed, added := map[string][]loc{}, map[string][]loc{}
	moves := map[string]string{}
	matched := map[string]bool{}
	chains := map[string][]string{} // the versions an added one follows
	aliased := map[string]bool{}    // added versions taken for one that left
	expanded := map[string]bool{}
	work := []pair{{base, side, "/", "/"}}
	list := func(d *dir) ([]*entry, error) {
		if d == nil {
			return nil, nil
		}
		return d.list(ctx)
	}
	for {
		for len(work) > 0 {
			w := work[len(work)-1]
			work = work[:len(work)-1]
			if w.b != nil && w.s != nil && w.b.cid.Defined() && w.b.cid.Equals(w.s.cid) && w.b.key == w.s.key {
				continue
			}
			bl, err := list(w.b)
			if err != nil {
				return nil, nil, err
			}
			sl, err := list(w.s)
			if err != nil {
				return nil, nil, err
			}
			i, j := 0, 0
			for i < len(bl) || j < len(sl) {
				var be, se *entry
				switch {
				case j == len(sl) || (i < len(bl) && bl[i].Name < sl[j].Name):
					be, i = bl[i], i+1
				case i == len(bl) || sl[j].Name < bl[i].Name:
					se, j = sl[j], j+1
				default:
					be, se, i, j = bl[i], sl[j], i+1, j+1
				}
				if be != nil && se != nil {
					if same(be, se) {
						continue
					}
					if be.Kind == KindDir && se.Kind == KindDir && be.Key == se.Key {
						bp, sp := path.Join(w.bp, be.Name), path.Join(w.sp, se.Name)
						work = append(work, pair{v.sub(be, bp), v.sub(se, sp), bp, sp})
						continue
					}
				}
				// A folder that left unmatched is looked into, and
				// looked into again once matched as moved: what left it
				// is counted once. Counted twice, an entry that stayed
				// at its path was no stay, and came back once the base
				// followed the folder (TestMergeHistories seed 2108).
				if be != nil {
					id, l := identity(be), loc{path.Join(w.bp, be.Name), be}
					if !slices.ContainsFunc(removed[id], func(x loc) bool { return x.p == l.p }) {
						removed[id] = append(removed[id], l)
					}
				}
				if se != nil {
					id, l := identity(se), loc{path.Join(w.sp, se.Name), se}
					if !slices.ContainsFunc(added[id], func(x loc) bool { return x.p == l.p }) {
						added[id] = append(added[id], l)
					}
				}
			}
		}
		// A file that appeared and matches nothing may be an edit of one
		// that left.
		lone := false
		for id, r := range removed {
			if !matched[id] && len(added[id]) == 0 && r[0].e.Kind == KindFile {
				lone = true
			}
		}
		if lone {
			for _, id := range slices.Sorted(maps.Keys(added)) {
				a := added[id]
				if len(a) != 1 || a[0].e.Kind != KindFile || len(removed[id]) > 0 || aliased[id] {
					continue
				}
				chain, ok := chains[id]
				if !ok {
					var err error
					if chain, err = v.prevChain(ctx, a[0].e, a[0].p); err != nil {
						return nil, nil, err
					}
					chains[id] = chain
				}
				for _, prev := range chain {
					if len(removed[prev]) > 0 {
						aliased[id] = true
						added[prev] = append(added[prev], a[0])
						break
					}
				}
			}
		}
		for _, id := range slices.Sorted(maps.Keys(removed)) {
			r, a := removed[id], added[id]
			if matched[id] || len(r) != 1 || len(a) != 1 {
				continue
			}
			matched[id] = true
			if a[0].p == translate(r[0].p, moves) || a[0].p == r[0].p {
				continue // edited where it was, or left where it was
			}
			moves[r[0].p] = a[0].p
			if r[0].e.Kind == KindDir && !r[0].e.CID.Equals(a[0].e.CID) {
				work = append(work, pair{v.sub(r[0].e, r[0].p), v.sub(a[0].e, a[0].p), r[0].p, a[0].p})
			}
		}
		if len(work) > 0 {
			continue
		}
		// Look into the folders that left or appeared and match nothing,
		// while there is something on both sides left to match.
		var lr, la []loc
		for id, r := range removed {
			if !matched[id] {
				lr = append(lr, r...)
			}
		}
		for id, a := range added {
			if len(removed[id]) == 0 || !matched[id] {
				la = append(la, a...)
			}
		}
		if len(lr) == 0 || len(la) == 0 {
			break
		}
		for _, l := range lr {
			if l.e.Kind == KindDir && !expanded["r"+l.p] {
				expanded["r"+l.p] = true
				work = append(work, pair{b: v.sub(l.e, l.p), bp: l.p})
			}
		}
		for _, l := range la {
			if l.e.Kind == KindDir && !expanded["a"+l.p] {
				expanded["a"+l.p] = true
				work = append(work, pair{s: v.sub(l.e, l.p), sp: l.p})
			}
		}
		if len(work) == 0 {
			break
		}
	}
	stays := map[string]bool{}
	for id, r := range removed {
		if len(r) == 1 && slices.ContainsFunc(added[id], func(a loc) bool { return a.p == r[0].p && identity(a.e) == id }) {
			stays[r[0].p] = true
			delete(moves, r[0].p) // matched elsewhere as an edit
		}
	}
	return moves, stays, nil
}

// prevChain returns the identities of the versions the file version e
// (at p) follows, newest first, at most prevSteps of them.
func (v *Vault) prevChain(ctx context.Context, e *entry, p string) ([]string, error) {
	fv, err := v.OpenFileWithKey(ctx, e.CID, e.Key, p)
	if err != nil {
		return nil, err
	}
	var out []string
	for range prevSteps {
		if !fv.Prev.Defined() {
			break
		}
		out = append(out, "f"+fv.Prev.KeyString())
		if len(out) == prevSteps {
			break
		}
		if fv, err = v.OpenFile(ctx, fv.Prev, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}
