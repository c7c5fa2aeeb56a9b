package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// ErrNotExist is wrapped by errors about a path that is not in the tree.
var ErrNotExist = errors.New("no such file or folder")

// ErrExist is wrapped by errors about a path that is already taken.
var ErrExist = errors.New("already exists")

// Tree is an account's directory tree in memory: changes stay here until
// Flush writes the changed nodes (the path to each change) in one batch.
type Tree struct {
	v    *Vault
	root *dir
}

// NewTree returns an empty tree with a fresh root key.
func (v *Vault) NewTree() (*Tree, error) {
	key, err := v.newKey()
	if err != nil {
		return nil, err
	}
	return &Tree{v: v, root: v.newDir(key, "/")}, nil
}

// OpenTree returns the tree stored at c, opened with its root key.
func (v *Vault) OpenTree(c cid.Cid, key [32]byte) *Tree {
	return &Tree{v: v, root: v.storedDir(c, key, "/")}
}

func (v *Vault) newKey() (k [32]byte, err error) {
	if _, err := io.ReadFull(v.rand, k[:]); err != nil {
		return k, fmt.Errorf("failed to make a key: %w", err)
	}
	return k, nil
}

// Dirty reports whether the tree has changes not yet flushed.
func (t *Tree) Dirty() bool { return t.root.dirty }

// chain is the way from the root to a directory: dirs[i] holds ents[i],
// the entry of dirs[i+1].
type chain struct {
	dirs []*dir
	ents []*entry
}

// last is the directory the chain leads to.
func (c *chain) last() *dir { return c.dirs[len(c.dirs)-1] }

// touch marks every node from the root to the chain's end dirty, after a
// change at its end.
func (c *chain) touch(ctx context.Context) error {
	for i := len(c.ents) - 1; i >= 0; i-- {
		if _, err := c.dirs[i].put(ctx, c.ents[i]); err != nil {
			return err
		}
	}
	return nil
}

// walk follows names from the root; with mkdirs it makes missing
// directories (mtime for them).
func (t *Tree) walk(ctx context.Context, names []string, mkdirs bool, mtime int64) (*chain, error) {
	c := &chain{dirs: []*dir{t.root}}
	for i, name := range names {
		d := c.last()
		p := "/" + strings.Join(names[:i+1], "/")
		e, err := d.get(ctx, name)
		if err != nil {
			return nil, err
		}
		if e == nil {
			if !mkdirs {
				return nil, fmt.Errorf("%s: %w", p, ErrNotExist)
			}
			key, err := t.v.newKey()
			if err != nil {
				return nil, err
			}
			e = &entry{Entry: Entry{Name: name, Kind: KindDir, Key: key, Mtime: mtime, Mode: 0o755}, sub: t.v.newDir(key, p)}
			if _, err := d.put(ctx, e); err != nil {
				return nil, err
			}
		}
		if e.Kind != KindDir {
			return nil, fmt.Errorf("%s is a file, not a folder", p)
		}
		if e.sub == nil {
			e.sub = t.v.storedDir(e.CID, e.Key, p)
		}
		c.dirs = append(c.dirs, e.sub)
		c.ents = append(c.ents, e)
	}
	return c, nil
}

// split cleans p and returns its parent's names and its base name; the
// root has no base.
func split(p string) ([]string, string, error) {
	names, err := SplitPath(p)
	if err != nil {
		return nil, "", err
	}
	if len(names) == 0 {
		return nil, "", nil
	}
	return names[:len(names)-1], names[len(names)-1], nil
}

// Stat returns the entry at p; "/" is the root directory.
func (t *Tree) Stat(ctx context.Context, p string) (Entry, error) {
	parent, base, err := split(p)
	if err != nil {
		return Entry{}, err
	}
	if base == "" {
		return Entry{Name: "/", Kind: KindDir, CID: t.root.cid, Key: t.root.key}, nil
	}
	c, err := t.walk(ctx, parent, false, 0)
	if err != nil {
		return Entry{}, err
	}
	e, err := c.last().get(ctx, base)
	if err != nil {
		return Entry{}, err
	}
	if e == nil {
		return Entry{}, fmt.Errorf("%s: %w", p, ErrNotExist)
	}
	return e.Entry, nil
}

// List returns the entries of the folder at p, sorted by name.
func (t *Tree) List(ctx context.Context, p string) ([]Entry, error) {
	names, err := SplitPath(p)
	if err != nil {
		return nil, err
	}
	c, err := t.walk(ctx, names, false, 0)
	if err != nil {
		return nil, err
	}
	es, err := c.last().list(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = e.Entry
	}
	return out, nil
}

// Put sets the entry at p, making missing parent folders; e.Name is set to
// p's base name. A folder is never replaced by a file or the other way.
func (t *Tree) Put(ctx context.Context, p string, e Entry) error {
	parent, base, err := split(p)
	if err != nil {
		return err
	}
	if base == "" {
		return errors.New("cannot replace the root folder")
	}
	c, err := t.walk(ctx, parent, true, e.Mtime)
	if err != nil {
		return err
	}
	d := c.last()
	old, err := d.get(ctx, base)
	if err != nil {
		return err
	}
	if old != nil && old.Kind != e.Kind {
		return fmt.Errorf("%s is a %s; remove it first: %w", p, old.Kind, ErrExist)
	}
	e.Name = base
	ne := &entry{Entry: e}
	if e.Kind == KindDir && old != nil {
		ne.sub = old.sub
	}
	if _, err := d.put(ctx, ne); err != nil {
		return err
	}
	return c.touch(ctx)
}

// PutFile sets p to the file version fv.
func (t *Tree) PutFile(ctx context.Context, p string, fv *FileVersion) error {
	return t.Put(ctx, p, Entry{Kind: KindFile, CID: fv.CID, Key: fv.Key, Size: fv.Size, Mtime: fv.Mtime, Mode: fv.Mode})
}

// Mkdir makes the folder p; with parents, missing parents too, and an
// existing folder is no error.
func (t *Tree) Mkdir(ctx context.Context, p string, parents bool, mtime int64) error {
	names, err := SplitPath(p)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		if parents {
			return nil
		}
		return fmt.Errorf("/: %w", ErrExist)
	}
	if !parents {
		if _, err := t.walk(ctx, names[:len(names)-1], false, 0); err != nil {
			return err
		}
		if _, err := t.Stat(ctx, p); err == nil {
			return fmt.Errorf("%s: %w", p, ErrExist)
		}
	}
	c, err := t.walk(ctx, names, true, mtime)
	if err != nil {
		return err
	}
	return c.touch(ctx)
}

// Remove deletes p (a folder with all it holds) and returns what it was.
func (t *Tree) Remove(ctx context.Context, p string) (Entry, error) {
	parent, base, err := split(p)
	if err != nil {
		return Entry{}, err
	}
	if base == "" {
		return Entry{}, errors.New("cannot remove the root folder")
	}
	c, err := t.walk(ctx, parent, false, 0)
	if err != nil {
		return Entry{}, err
	}
	d := c.last()
	e, err := d.get(ctx, base)
	if err != nil {
		return Entry{}, err
	}
	if e == nil {
		return Entry{}, fmt.Errorf("%s: %w", p, ErrNotExist)
	}
	if _, err := d.remove(ctx, base); err != nil {
		return Entry{}, err
	}
	return e.Entry, c.touch(ctx)
}

// Move renames from to to. When to is an existing folder, from moves into
// it; an existing file at the target is an error.
func (t *Tree) Move(ctx context.Context, from, to string) error {
	fe, err := t.Stat(ctx, from)
	if err != nil {
		return err
	}
	if from == "/" {
		return errors.New("cannot move the root folder")
	}
	if te, err := t.Stat(ctx, to); err == nil {
		if te.Kind != KindDir {
			return fmt.Errorf("%s: %w; remove it first", to, ErrExist)
		}
		to = path.Join(to, fe.Name)
		if _, err := t.Stat(ctx, to); err == nil {
			return fmt.Errorf("%s: %w; remove it first", to, ErrExist)
		}
	} else if !errors.Is(err, ErrNotExist) {
		return err
	}
	if fe.Kind == KindDir && (to == from || strings.HasPrefix(to, strings.TrimSuffix(from, "/")+"/")) {
		return fmt.Errorf("cannot move %s into itself", from)
	}
	// Keep the loaded subtree (and its unflushed changes) with the entry.
	parent, base, _ := split(from)
	c, err := t.walk(ctx, parent, false, 0)
	if err != nil {
		return err
	}
	old, err := c.last().get(ctx, base)
	if err != nil {
		return err
	}
	if _, err := t.Remove(ctx, from); err != nil {
		return err
	}
	tparent, tbase, err := split(to)
	if err != nil {
		return err
	}
	tc, err := t.walk(ctx, tparent, true, fe.Mtime)
	if err != nil {
		return err
	}
	ne := &entry{Entry: old.Entry, sub: old.sub}
	ne.Name = tbase
	if _, err := tc.last().put(ctx, ne); err != nil {
		return err
	}
	return tc.touch(ctx)
}

// Flush seals every changed node and returns the root's CID and the new
// blocks, for Commit to store with its snapshot. If storing them fails, the
// tree must be opened again from the last snapshot.
func (t *Tree) Flush(ctx context.Context) (cid.Cid, []blocks.Block, error) {
	var out []blocks.Block
	c, err := t.root.flush(ctx, &out)
	if err != nil {
		return cid.Undef, nil, err
	}
	return c, out, nil
}
