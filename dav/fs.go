package dav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"sync"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	cid "github.com/ipfs/go-cid"
	"golang.org/x/net/webdav"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/vault"
)

// Errors the handlers answer with their own status.
var (
	errNoParent   = errors.New("the parent folder does not exist (make it with MKCOL first)")
	errDestExists = errors.New("the destination exists and Overwrite is F")
	errIntoItself = errors.New("cannot copy or move a folder into itself or onto a folder that holds it")
	errIsFolder   = errors.New("is a folder")
)

// FS is a webdav.FileSystem over the account's tree. Reads use the head's
// tree, kept open while the head stays the same; every write is one
// [account.Account.Change].
type FS struct {
	acct  *account.Account
	v     *vault.Vault
	props *propStore
	gc    bstore.GCLocker
	log   *slog.Logger

	mu   sync.Mutex // guards head and tree: a Tree is not safe for concurrent use
	head cid.Cid
	tree *vault.Tree

	heldMu sync.Mutex
	held   map[cid.Cid]int // versions written and not yet in the head

	junk junkStore // Finder's .DS_Store and ._* files
}

var _ webdav.FileSystem = (*FS)(nil)

// NewFS returns the file system of acct, whose blocks and dead
// properties are in store.
func NewFS(acct *account.Account, store *blockstore.Store, log *slog.Logger) *FS {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fs := &FS{
		acct:  acct,
		v:     acct.Vault(),
		props: &propStore{ds: store.Namespace("dav")},
		gc:    store.Blockstore(),
		log:   log,
		held:  map[cid.Cid]int{},
	}
	// An uploaded version is a GC root from when its last block is
	// written (under a PinLock) until the change naming it commits.
	store.AddRoots(func(context.Context) ([]cid.Cid, error) {
		fs.heldMu.Lock()
		defer fs.heldMu.Unlock()
		out := make([]cid.Cid, 0, len(fs.held))
		for c := range fs.held {
			out = append(out, c)
		}
		return out, nil
	})
	return fs
}

func (fs *FS) hold(c cid.Cid) {
	fs.heldMu.Lock()
	fs.held[c]++
	fs.heldMu.Unlock()
}

func (fs *FS) release(c cid.Cid) {
	fs.heldMu.Lock()
	if fs.held[c]--; fs.held[c] <= 0 {
		delete(fs.held, c)
	}
	fs.heldMu.Unlock()
}

// view runs fn on the head's tree.
func (fs *FS) view(fn func(t *vault.Tree) error) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var head cid.Cid
	if h := fs.acct.Head(); h != nil {
		head = h.CID
	}
	if fs.tree == nil || !head.Equals(fs.head) {
		t, err := fs.acct.ReadTree()
		if err != nil {
			return err
		}
		fs.tree, fs.head = t, head
	}
	return fn(fs.tree)
}

// clean turns a WebDAV name into a vault path, refusing names the vault
// refuses.
func clean(name string) (string, error) {
	p := path.Clean("/" + name)
	if _, err := vault.SplitPath(p); err != nil {
		return "", fmt.Errorf("%w: %v", os.ErrInvalid, err)
	}
	return p, nil
}

// pathErr wraps err for op on name the way os does, so that
// os.IsNotExist and os.IsExist see vault's errors.
func pathErr(op, name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, vault.ErrNotExist):
		err = os.ErrNotExist
	case errors.Is(err, vault.ErrExist):
		err = os.ErrExist
	}
	return &os.PathError{Op: op, Path: name, Err: err}
}

// stat returns the entry at p in the head's tree.
func (fs *FS) stat(ctx context.Context, p string) (vault.Entry, error) {
	var e vault.Entry
	err := fs.view(func(t *vault.Tree) error {
		var err error
		e, err = t.Stat(ctx, p)
		return err
	})
	return e, err
}

// info describes the entry e at p.
func (fs *FS) info(p string, e vault.Entry) *fileInfo {
	fi := &fileInfo{name: path.Base(p), e: e}
	if p == "/" {
		if h := fs.acct.Head(); h != nil {
			fi.e.Mtime = h.Time
		}
	}
	return fi
}

// Stat returns what is at name.
func (fs *FS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	p, err := clean(name)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	if f, ok := fs.junk.get(p); ok {
		return junkInfo(p, f), nil
	}
	e, err := fs.stat(ctx, p)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return fs.info(p, e), nil
}

// OpenFile opens name for reading, or, with O_WRONLY or O_RDWR, starts a
// new version of it that Close commits (the content written replaces
// the old whole: O_TRUNC is implied).
func (fs *FS) OpenFile(ctx context.Context, name string, flag int, perm os.FileMode) (webdav.File, error) {
	p, err := clean(name)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	if isJunk(p) && flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		if err := fs.junkParent(ctx, p); err != nil {
			return nil, pathErr("open", name, err)
		}
		return &junkWriter{fs: fs, p: p}, nil
	}
	if f, ok := fs.junk.get(p); ok && flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return &junkReader{Reader: bytes.NewReader(f.data), fi: junkInfo(p, f)}, nil
	}
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		u, _, err := fs.create(ctx, p, time.Now().UnixNano(), flag)
		if err != nil {
			return nil, pathErr("open", name, err)
		}
		return u, nil
	}
	e, err := fs.stat(ctx, p)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	if e.Kind == vault.KindDir {
		return &dirFile{fs: fs, ctx: ctx, p: p, fi: fs.info(p, e)}, nil
	}
	return &readFile{fs: fs, ctx: ctx, p: p, fi: fs.info(p, e)}, nil
}

// create checks that p can take a new file version and starts writing
// it; existed says whether a file was there.
func (fs *FS) create(ctx context.Context, p string, mtime int64, flag int) (u *upload, existed bool, err error) {
	if p == "/" {
		return nil, false, errIsFolder
	}
	var prev cid.Cid
	err = fs.view(func(t *vault.Tree) error {
		pe, err := t.Stat(ctx, path.Dir(p))
		if errors.Is(err, vault.ErrNotExist) || (err == nil && pe.Kind != vault.KindDir) {
			return errNoParent
		}
		if err != nil {
			return err
		}
		e, err := t.Stat(ctx, p)
		switch {
		case errors.Is(err, vault.ErrNotExist):
			if flag&os.O_CREATE == 0 {
				return err
			}
			return nil
		case err != nil:
			return err
		case e.Kind == vault.KindDir:
			return fmt.Errorf("%s %w", p, errIsFolder)
		case flag&os.O_EXCL != 0:
			return fmt.Errorf("%s: %w", p, vault.ErrExist)
		}
		existed, prev = true, e.CID
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return fs.newUpload(ctx, p, prev, mtime, existed), existed, nil
}

// Mkdir makes the folder name; its parent must exist.
func (fs *FS) Mkdir(ctx context.Context, name string, perm os.FileMode) error {
	p, err := clean(name)
	if err != nil {
		return pathErr("mkdir", name, err)
	}
	_, err = fs.acct.Change(ctx, false, func(ctx context.Context, t *vault.Tree) error {
		return t.Mkdir(ctx, p, false, time.Now().UnixNano())
	})
	if err != nil {
		return pathErr("mkdir", name, err)
	}
	// Whatever properties an earlier resource of this name left go.
	return fs.props.removeAll(ctx, p)
}

// RemoveAll removes name and all it holds; a name that is not there is
// no error.
func (fs *FS) RemoveAll(ctx context.Context, name string) error {
	p, err := clean(name)
	if err != nil {
		return pathErr("remove", name, err)
	}
	if p == "/" {
		return pathErr("remove", name, errors.New("cannot remove the root folder"))
	}
	if fs.junk.remove(p) {
		return nil
	}
	_, err = fs.acct.Change(ctx, false, func(ctx context.Context, t *vault.Tree) error {
		_, err := t.Remove(ctx, p)
		if errors.Is(err, vault.ErrNotExist) {
			return nil
		}
		return err
	})
	if err != nil {
		return pathErr("remove", name, err)
	}
	fs.junk.remove(p)
	return fs.props.removeAll(ctx, p)
}

// Rename moves oldName to newName, which must not exist.
func (fs *FS) Rename(ctx context.Context, oldName, newName string) error {
	_, err := fs.Move(ctx, oldName, newName, false)
	return err
}
