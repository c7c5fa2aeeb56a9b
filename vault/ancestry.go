package vault

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"
)

// Ancestry questions are answered by walking down from the newer
// snapshots in order of sequence number, which is a generation number: a
// snapshot's seq is more than each parent's, so nothing below a given
// seq can be a descendant of a snapshot at it. A walk therefore stops at
// the oldest snapshot it asks about and costs what history holds above
// that point, not the whole history (SPEC.md §11).

// byGen is a max-heap of snapshots by sequence number, then CID.
type byGen []*Snapshot

func (h byGen) Len() int { return len(h) }
func (h byGen) Less(i, j int) bool {
	if h[i].Seq != h[j].Seq {
		return h[i].Seq > h[j].Seq
	}
	return h[i].CID.KeyString() > h[j].CID.KeyString()
}
func (h byGen) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *byGen) Push(x any)   { *h = append(*h, x.(*Snapshot)) }
func (h *byGen) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// errBadSeq is wrapped when a snapshot's parent does not have a lower
// sequence number than the snapshot: history that no device writes.
var errBadSeq = errors.New("a parent's seq is not lower than its child's")

// openParent opens parent p of child s, checking the order of their
// sequence numbers, which every walk relies on to end.
func (v *Vault) openParent(ctx context.Context, s *Snapshot, p cid.Cid) (*Snapshot, error) {
	ps, err := v.OpenSnapshot(ctx, p)
	if err != nil {
		return nil, err
	}
	if ps.Seq >= s.Seq {
		return nil, &DamagedError{CID: s.CID, What: "snapshot", Err: fmt.Errorf("%w: parent %s has seq %d, the snapshot %d", errBadSeq, p, ps.Seq, s.Seq)}
	}
	return ps, nil
}

// IsAncestor reports whether snapshot anc is desc or one of its ancestors.
func (v *Vault) IsAncestor(ctx context.Context, anc, desc cid.Cid) (bool, error) {
	if anc.Equals(desc) {
		return true, nil
	}
	a, err := v.OpenSnapshot(ctx, anc)
	if err != nil {
		return false, err
	}
	d, err := v.OpenSnapshot(ctx, desc)
	if err != nil {
		return false, err
	}
	return v.isAncestor(ctx, a, d)
}

// isAncestor walks down from desc, never below anc's sequence number.
func (v *Vault) isAncestor(ctx context.Context, anc, desc *Snapshot) (bool, error) {
	if anc.CID.Equals(desc.CID) {
		return true, nil
	}
	if desc.Seq <= anc.Seq {
		return false, nil
	}
	seen := map[cid.Cid]bool{desc.CID: true}
	stack := []*Snapshot{desc}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range x.Parents {
			if p.Equals(anc.CID) {
				return true, nil
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			ps, err := v.openParent(ctx, x, p)
			if err != nil {
				return false, err
			}
			if ps.Seq > anc.Seq {
				stack = append(stack, ps)
			}
		}
	}
	return false, nil
}

// Paint marks of the merge base walk.
const (
	fromA uint8 = 1 << iota
	fromB
	stale // below a common ancestor found
)

// MergeBases returns the best common ancestors of a and b: the common
// ancestors that are no other common ancestor's ancestor, sorted by CID.
// Criss-cross histories (devices that merged the same heads in different
// orders) have several; none when a and b share no history.
//
// The walk goes down from both by sequence number, marking what it
// reaches from a and from b. Since a snapshot is popped only after every
// walked snapshot above it, one marked from both when popped is a common
// ancestor with no common descendant found first, so a best one; what is
// below it is marked stale, and the walk ends once only stale snapshots
// are queued.
func (v *Vault) MergeBases(ctx context.Context, a, b *Snapshot) ([]*Snapshot, error) {
	if a.CID.Equals(b.CID) {
		return []*Snapshot{a}, nil
	}
	marks := map[cid.Cid]uint8{a.CID: fromA, b.CID: fromB}
	queued := map[cid.Cid]bool{a.CID: true, b.CID: true}
	q := &byGen{a, b}
	heap.Init(q)
	live := 2 // queued and not stale
	var out []*Snapshot
	for live > 0 && q.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := heap.Pop(q).(*Snapshot)
		delete(queued, x.CID)
		flags := marks[x.CID]
		if flags&stale == 0 {
			live--
			if flags&(fromA|fromB) == fromA|fromB {
				out = append(out, x)
				flags |= stale
			}
		}
		for _, p := range x.Parents {
			pm, known := marks[p]
			nm := pm | flags
			if known && nm == pm {
				continue
			}
			marks[p] = nm
			switch {
			case !known:
				ps, err := v.openParent(ctx, x, p)
				if err != nil {
					return nil, err
				}
				heap.Push(q, ps)
				queued[p] = true
				if nm&stale == 0 {
					live++
				}
			case queued[p] && pm&stale == 0 && nm&stale != 0:
				live--
			}
			// A known parent not queued was popped already, which the
			// order of sequence numbers (checked by openParent) rules
			// out.
		}
	}
	slices.SortFunc(out, func(x, y *Snapshot) int { return strings.Compare(x.CID.KeyString(), y.CID.KeyString()) })
	return out, nil
}
