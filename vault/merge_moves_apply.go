package vault

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"path"
	"slices"
	"strings"
)

// Making the moves findMoves found in the base and both sides, before
// the path-by-path merge (SPEC.md §12, "Moves").

// translate maps a base path to where side has it, after side's moves of
// the folders above it.
func translate(p string, moves map[string]string) string {
	for q := path.Dir(p); q != "/"; q = path.Dir(q) {
		if to, ok := moves[q]; ok {
			return to + strings.TrimPrefix(p, q)
		}
	}
	return p
}

// moveStep moves the entry at from to to in one tree; missing folders on
// the way to to are made with the keys, mode and mtime of those of like
// (the tree of the side whose move it is).
type moveStep struct {
	from, to string
	like     *Tree
	// A destination below a folder the other side moved: like holds at
	// likeFrom what the tree holds at likeTo.
	likeFrom, likeTo string
}

// errMoveCollides says a move cannot be made in a tree: its destination
// is taken, or a file stands on the way.
var errMoveCollides = errors.New("the destination of a move is taken")

// followMoves returns base, a and b with the moves of each side made in
// the others (SPEC.md §12, "Moves"), or the three as they are when a side
// moved nothing or a move's destination collides.
func (ms *mergeState) followMoves(ctx context.Context, base, a, b *dir) (*dir, *dir, *dir, error) {
	v := ms.v
	ma, sa, err := v.findMoves(ctx, base, a)
	if err != nil {
		return nil, nil, nil, err
	}
	mb, sb, err := v.findMoves(ctx, base, b)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(ma) == 0 && len(mb) == 0 {
		return base, a, b, nil
	}
	// Moves into a folder the other side moved go where it went; if
	// that collides, they are tried at the paths the side gave them.
	for _, follow := range []bool{true, false} {
		nb, na, nbb, err := ms.moveTrees(ctx, base, a, b, ma, mb, sa, sb, follow)
		if !errors.Is(err, errMoveCollides) {
			return nb, na, nbb, err
		}
	}
	return base, a, b, nil
}

// moveTrees makes the moves ma and mb (with the sides' stays sa and sb,
// see findMoves) in base, a and b, or returns errMoveCollides; follow
// says whether moves into a folder the other side moved follow it.
func (ms *mergeState) moveTrees(ctx context.Context, base, a, b *dir, ma, mb map[string]string, sa, sb map[string]bool, follow bool) (*dir, *dir, *dir, error) {
	v := ms.v
	tBase := &Tree{v: v, root: v.storedDir(base.cid, base.key, "/")}
	tA := &Tree{v: v, root: v.storedDir(a.cid, a.key, "/")}
	tB := &Tree{v: v, root: v.storedDir(b.cid, b.key, "/")}
	likeA := &Tree{v: v, root: a}
	likeB := &Tree{v: v, root: b}
	var forBase, forA, forB []moveStep
	// Where both moved a folder to different places, a side's moves into
	// the place that lost go to the one that won: the folder is there,
	// and a folder made at the lost place would have its key too.
	lostA, lostB := map[string]string{}, map[string]string{}
	for f, qa := range ma {
		if qb, ok := mb[f]; ok && qa < qb {
			lostB[qb] = qa
		} else if ok && qb < qa {
			lostA[qa] = qb
		}
	}
	// movedBy adds the steps of an item (base path from) only one side,
	// mover, moved (to q, its folders made like like): in the base, and
	// in the other side from where that side holds it, unless it holds
	// it no more.
	movedBy := func(from, q string, like, mover, other *Tree, otherMoves map[string]string, otherStays map[string]bool, forOther *[]moveStep) error {
		src := translate(from, otherMoves)
		if otherStays[from] {
			src = from
		}
		ok, err := holds(ctx, tBase, from, other, src)
		if err != nil || !ok {
			return err
		}
		st, err := into(ctx, moveStep{from: from, to: q, like: like}, otherMoves, tBase, mover, follow)
		if err != nil {
			return err
		}
		forBase = append(forBase, st)
		st.from = src
		*forOther = append(*forOther, st)
		return nil
	}
	// item adds the steps of one moved item (base path from): to the
	// side's place when only it moved, to the bytewise smaller of the two
	// when both did. When the other side no longer holds it (removed or
	// replaced it), the move is left to the plain merge, where a moved
	// entry is an added one: an edit (here, of place) wins over a delete.
	item := func(from string) error {
		qa, inA := ma[from]
		qb, inB := mb[from]
		if inA {
			qa = translate(qa, lostA)
		}
		if inB {
			qb = translate(qb, lostB)
		}
		switch {
		case inA && inB && qa == qb:
			forBase = append(forBase, moveStep{from: from, to: qa, like: likeA})
		case inA && inB:
			if qa < qb {
				forBase = append(forBase, moveStep{from: from, to: qa, like: likeA})
				forB = append(forB, moveStep{from: qb, to: qa, like: likeA})
			} else {
				forBase = append(forBase, moveStep{from: from, to: qb, like: likeB})
				forA = append(forA, moveStep{from: qa, to: qb, like: likeB})
			}
		case inA:
			return movedBy(from, qa, likeA, tA, tB, mb, sb, &forB)
		default:
			return movedBy(from, qb, likeB, tB, tA, ma, sa, &forA)
		}
		return nil
	}
	froms := make([]string, 0, len(ma)+len(mb))
	for _, m := range []map[string]string{ma, mb} {
		for f := range m {
			if !slices.Contains(froms, f) {
				froms = append(froms, f)
			}
		}
	}
	slices.Sort(froms)
	for _, f := range froms {
		if err := item(f); err != nil {
			return nil, nil, nil, err
		}
	}
	// What a side holds where the base had it, in a folder of another
	// key, goes where the base's moves take it, as the base's entry
	// does: the side left it as it was.
	for _, x := range []struct {
		t     *Tree
		steps *[]moveStep
		stays map[string]bool
	}{{tA, &forA, sa}, {tB, &forB, sb}} {
		more, err := carried(ctx, x.t, forBase, *x.steps, x.stays)
		if err != nil {
			return nil, nil, nil, err
		}
		*x.steps = append(*x.steps, more...)
	}
	for _, x := range []struct {
		t     *Tree
		steps []moveStep
	}{{tBase, forBase}, {tA, forA}, {tB, forB}} {
		if err := applyMoves(ctx, x.t, x.steps); err != nil {
			return nil, nil, nil, err
		}
	}
	for _, t := range []*Tree{tBase, tA, tB} {
		if err := ms.flush(ctx, t.root); err != nil {
			return nil, nil, nil, err
		}
	}
	return tBase.root, tA.root, tB.root, nil
}

// into returns s with its destination below the place the other side
// moved a folder above it to (other: the other side's moves), when the
// side whose move it is holds that folder where the base does: the move
// was into that folder, which is now elsewhere. Left at the old path, a
// folder of the moved one's key was made there again, and what the other
// side had removed in it came back (TestMergeHistories seed 2783).
func into(ctx context.Context, s moveStep, other map[string]string, base, side *Tree, follow bool) (moveStep, error) {
	if !follow {
		return s, nil
	}
	for q := path.Dir(s.to); q != "/"; q = path.Dir(q) {
		to, ok := other[q]
		if !ok {
			continue
		}
		be, err := lookup(ctx, base, q)
		if err != nil || be == nil || be.Kind != KindDir {
			return s, err
		}
		se, err := lookup(ctx, side, q)
		if errors.Is(err, errMoveCollides) {
			return s, nil
		}
		if err != nil || se == nil || se.Kind != KindDir || se.Key != be.Key {
			return s, err
		}
		s.likeFrom, s.likeTo = q, to
		s.to = to + strings.TrimPrefix(s.to, q)
		return s, nil
	}
	return s, nil
}

// carried returns the steps that take a side's stays (base paths it
// holds unmoved, see findMoves) where the base's steps take them, unless
// the side's steps already move them.
func carried(ctx context.Context, side *Tree, forBase, forSide []moveStep, stays map[string]bool) ([]moveStep, error) {
	var out []moveStep
	for _, p := range slices.Sorted(maps.Keys(stays)) {
		if slices.ContainsFunc(forSide, func(s moveStep) bool { return s.from == p }) {
			continue
		}
		step := moveStep{from: p, to: p, like: nil}
		depth := -1
		for _, s := range forBase {
			if (p == s.from || strings.HasPrefix(p, s.from+"/")) && len(s.from) > depth {
				step.to, step.like, step.likeFrom, step.likeTo, depth = s.to+strings.TrimPrefix(p, s.from), s.like, s.likeFrom, s.likeTo, len(s.from)
			}
		}
		if step.to == p {
			continue
		}
		// Where the side has something else there already, its entry
		// stays where it is.
		if e, err := lookup(ctx, side, step.to); errors.Is(err, errMoveCollides) || e != nil {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, step)
	}
	return out, nil
}

// holds reports whether other still holds at op what base holds at bp:
// a folder of the same key, or a file (edited or not).
func holds(ctx context.Context, base *Tree, bp string, other *Tree, op string) (bool, error) {
	be, err := lookup(ctx, base, bp)
	if err != nil || be == nil {
		return false, err
	}
	oe, err := lookup(ctx, other, op)
	if errors.Is(err, errMoveCollides) {
		return false, nil
	}
	if err != nil || oe == nil {
		return false, err
	}
	if be.Kind == KindDir {
		return oe.Kind == KindDir && oe.Key == be.Key, nil
	}
	return oe.Kind == KindFile, nil
}

// lookup returns the entry at p in t (nil if there is none), with its
// folder attached so that changes below it stay with it.
func lookup(ctx context.Context, t *Tree, p string) (*entry, error) {
	parent, base, err := split(p)
	if err != nil || base == "" {
		return nil, err
	}
	c, err := t.walk(ctx, parent, false, 0)
	if errors.Is(err, ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errMoveCollides // a file on the way
	}
	e, err := c.last().get(ctx, base)
	if err != nil || e == nil {
		return nil, err
	}
	if e.Kind == KindDir && e.sub == nil {
		e.sub = t.v.storedDir(e.CID, e.Key, p)
	}
	return e, nil
}

// applyMoves takes every step's entry out of t (deepest first, so that
// what moves out of a moving folder leaves it first), then puts each at
// its destination (parents first).
func applyMoves(ctx context.Context, t *Tree, steps []moveStep) error {
	if len(steps) == 0 {
		return nil
	}
	ents := make([]*entry, len(steps))
	for i, s := range steps {
		e, err := lookup(ctx, t, s.from)
		if err != nil {
			return err
		}
		if e == nil {
			return errMoveCollides // moved away by another step
		}
		ents[i] = e
	}
	order := make([]int, len(steps))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		return cmp.Or(-cmp.Compare(strings.Count(steps[x].from, "/"), strings.Count(steps[y].from, "/")), strings.Compare(steps[x].from, steps[y].from))
	})
	for _, i := range order {
		if _, err := t.Remove(ctx, steps[i].from); err != nil {
			if errors.Is(err, ErrNotExist) {
				return errMoveCollides
			}
			return err
		}
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(steps[x].to, steps[y].to) })
	for _, i := range order {
		if err := place(ctx, t, steps[i], ents[i]); err != nil {
			return err
		}
	}
	return nil
}

// place puts e at s.to in t, making the missing folders on the way as
// s.like has them.
func place(ctx context.Context, t *Tree, s moveStep, e *entry) error {
	names, err := SplitPath(s.to)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return errMoveCollides
	}
	c := &chain{dirs: []*dir{t.root}}
	for i, name := range names[:len(names)-1] {
		p := "/" + strings.Join(names[:i+1], "/")
		d := c.last()
		pe, err := d.get(ctx, name)
		if err != nil {
			return err
		}
		if pe == nil {
			lp := p
			if s.likeTo != "" && strings.HasPrefix(p, s.likeTo+"/") {
				lp = s.likeFrom + strings.TrimPrefix(p, s.likeTo)
			}
			le, err := lookup(ctx, s.like, lp)
			if err != nil {
				return err
			}
			if le == nil || le.Kind != KindDir {
				return errMoveCollides
			}
			pe = &entry{Entry: Entry{Name: name, Kind: KindDir, Key: le.Key, Mtime: le.Mtime, Mode: le.Mode}, sub: t.v.newDir(le.Key, p)}
			if _, err := d.put(ctx, pe); err != nil {
				return err
			}
		}
		if pe.Kind != KindDir {
			return errMoveCollides
		}
		if pe.sub == nil {
			pe.sub = t.v.storedDir(pe.CID, pe.Key, p)
		}
		c.dirs = append(c.dirs, pe.sub)
		c.ents = append(c.ents, pe)
	}
	d := c.last()
	name := names[len(names)-1]
	if old, err := d.get(ctx, name); err != nil || old != nil {
		if err != nil {
			return err
		}
		return errMoveCollides
	}
	ne := &entry{Entry: e.Entry, sub: e.sub}
	ne.Name = name
	if _, err := d.put(ctx, ne); err != nil {
		return err
	}
	return c.touch(ctx)
}
