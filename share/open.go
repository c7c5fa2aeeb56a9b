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

// OpenFile opens the file version a link names, with the link's key,
// reading blocks through v (the reader's own vault over blocks that may
// come from the network). Links name files only in this version (SPEC.md
// section 17.1).
func OpenFile(ctx context.Context, v *vault.Vault, target cid.Cid, key [32]byte) (*vault.FileVersion, error) {
	fv, err := v.OpenFileWithKey(ctx, target, key, "the shared file")
	var de *vault.DamagedError
	if errors.As(err, &de) && errors.Is(err, vault.ErrWrongKey) {
		return nil, fmt.Errorf("failed to open %s: %w", target, ErrWrongKey)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to open the shared file %s: %w", target, err)
	}
	return fv, nil
}
