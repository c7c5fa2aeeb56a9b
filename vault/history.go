package vault

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"
)

// Log returns the snapshots reachable from head, newest first (by time,
// then sequence, then CID), at most limit of them (all when limit <= 0).
func (v *Vault) Log(ctx context.Context, head cid.Cid, limit int) ([]*Snapshot, error) {
	seen := map[cid.Cid]bool{head: true}
	var out []*Snapshot
	frontier := []cid.Cid{head}
	for len(frontier) > 0 {
		var next []cid.Cid
		for _, c := range frontier {
			s, err := v.OpenSnapshot(ctx, c)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			for _, p := range s.Parents {
				if !seen[p] {
					seen[p] = true
					next = append(next, p)
				}
			}
		}
		frontier = next
	}
	slices.SortFunc(out, func(a, b *Snapshot) int {
		if c := cmp.Compare(b.Time, a.Time); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Seq, a.Seq); c != 0 {
			return c
		}
		return cmp.Compare(b.CID.KeyString(), a.CID.KeyString())
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Versions returns every version of the file at p that the history from
// head knows, newest first: the versions the path held in any snapshot,
// and the versions each of them follows. It finds deleted files too.
func (v *Vault) Versions(ctx context.Context, head cid.Cid, p string) ([]*FileVersion, error) {
	snaps, err := v.Log(ctx, head, 0)
	if err != nil {
		return nil, err
	}
	seen := map[cid.Cid]*FileVersion{}
	var order []*FileVersion
	add := func(c cid.Cid) error {
		for c.Defined() && seen[c] == nil {
			fv, err := v.OpenFile(ctx, c, p)
			if err != nil {
				return err
			}
			seen[c] = fv
			order = append(order, fv)
			c = fv.Prev
		}
		return nil
	}
	// Subtrees repeat between snapshots; remember what a directory node
	// says about the path below it.
	memo := map[cid.Cid]found{}
	names, err := SplitPath(p)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("/ is a folder; history of a folder lists snapshots")
	}
	isDir := false
	for _, s := range snaps {
		r, err := v.lookupMemo(ctx, s, names, memo)
		if err != nil {
			return nil, err
		}
		if r.kind == KindDir {
			isDir = true
		}
		if r.kind == KindFile {
			if err := add(r.c); err != nil {
				return nil, err
			}
		}
	}
	if len(order) == 0 {
		if isDir {
			return nil, fmt.Errorf("%s is a folder; 'peer history' without a path lists snapshots", p)
		}
		return nil, fmt.Errorf("%s: %w in any snapshot", p, ErrNotExist)
	}
	slices.SortFunc(order, func(a, b *FileVersion) int {
		if c := cmp.Compare(b.Time, a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.CID.KeyString(), a.CID.KeyString())
	})
	return order, nil
}

// found is what a path holds in one snapshot (undefined: nothing).
type found struct {
	c    cid.Cid
	kind Kind
}

// lookupMemo finds the entry at names in snapshot s; memo maps the CID of
// the path's parent directory node to what it holds, since unchanged
// folders keep their CID from snapshot to snapshot.
func (v *Vault) lookupMemo(ctx context.Context, s *Snapshot, names []string, memo map[cid.Cid]found) (found, error) {
	d := s.OpenTree(v).root
	for i, name := range names {
		last := i == len(names)-1
		if r, ok := memo[d.cid]; ok && last {
			return r, nil
		}
		e, err := d.get(ctx, name)
		if err != nil {
			return found{}, err
		}
		if last {
			var r found
			if e != nil {
				r = found{e.CID, e.Kind}
			}
			memo[d.cid] = r
			return r, nil
		}
		if e == nil || e.Kind != KindDir {
			return found{}, nil
		}
		d = v.storedDir(e.CID, e.Key, "/"+strings.Join(names[:i+1], "/"))
	}
	return found{}, nil
}
