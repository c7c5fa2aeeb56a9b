package share

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/vault"
)

// ErrWrongKey says a link's key does not open what it names.
var ErrWrongKey = errors.New("the link's key does not open what it names: the link is mistyped or truncated, copy the whole link")

// Opened is what a link opens: a file version or a folder.
type Opened struct {
	File   *vault.FileVersion // a file; nil for a folder
	Folder *vault.Tree        // a folder (the copy made for the share); nil for a file
}

// OpenTarget opens what a link names, a file version or a folder's shared copy
// (SPEC.md section 17.1), with the link's key, reading blocks through v
// (the reader's own vault over blocks that may come from the network).
func OpenTarget(ctx context.Context, v *vault.Vault, target cid.Cid, key [32]byte) (Opened, error) {
	data, err := v.Blocks().Get(ctx, target)
	if err != nil {
		return Opened{}, fmt.Errorf("failed to fetch what the link names, %s (is a device of its account, or a node holding it, on this LAN?): %w", target, err)
	}
	if kind, _ := vault.BlockKind(target, data); kind == "dir" {
		t := v.OpenTree(target, key)
		_, err := t.List(ctx, "/")
		if err != nil {
			return Opened{}, wrongKey(target, "folder", err)
		}
		return Opened{Folder: t}, nil
	}
	fv, err := OpenFile(ctx, v, target, key)
	return Opened{File: fv}, err
}

// OpenFile opens the file version a link names, with the link's key.
func OpenFile(ctx context.Context, v *vault.Vault, target cid.Cid, key [32]byte) (*vault.FileVersion, error) {
	fv, err := v.OpenFileWithKey(ctx, target, key, "the shared file")
	if err != nil {
		return nil, wrongKey(target, "file", err)
	}
	return fv, nil
}

func wrongKey(target cid.Cid, what string, err error) error {
	var de *vault.DamagedError
	if errors.As(err, &de) && errors.Is(err, vault.ErrWrongKey) {
		return fmt.Errorf("failed to open %s: %w", target, ErrWrongKey)
	}
	return fmt.Errorf("failed to open the shared %s %s: %w", what, target, err)
}
