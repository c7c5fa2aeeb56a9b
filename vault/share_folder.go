package vault

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
)

// labelShareDir derives the key of a folder's shared copy (SPEC.md
// section 17.1, "Folders").
const labelShareDir = "peer/v1 share dir"

// shareDirKey is the key of the shared copy of the folder whose top node
// is c: HKDF(secret, "peer/v1 share dir" || 0x00 || c's bytes).
func shareDirKey(secret [32]byte, c cid.Cid) (k [32]byte) {
	copy(k[:], derive(secret[:], labelShareDir+"\x00"+string(c.Bytes())))
	return k
}

// CopyFolder writes the folder whose top node is c (opened with key) again
// for a share: every folder in it is sealed anew under a key derived from
// the share's secret and that folder's own top node, and file entries are
// kept as they are (a file key opens one version only). A folder key
// opens every later version of its folder, so a link never carries one of
// the account's; it carries the copy's, which opens this copy and nothing
// the account writes later. The copy is deterministic: every device
// writes the same blocks for the same secret and folder.
//
// memo, when not nil, holds copies made before, by the original's CID,
// and takes the new ones: a folder that did not change is not read again.
// name is the folder's path, for errors.
func (v *Vault) CopyFolder(ctx context.Context, secret [32]byte, c cid.Cid, key [32]byte, name string, memo map[cid.Cid]Entry) (Entry, error) {
	if e, ok := memo[c]; ok {
		return e, nil
	}
	es, err := v.OpenTree(c, key).List(ctx, "/")
	if err != nil {
		return Entry{}, fmt.Errorf("failed to read %s to share it: %w", name, err)
	}
	k := shareDirKey(secret, c)
	raw := *v
	raw.rawDirs = true
	dst := &Tree{v: &raw, root: raw.newDir(k, name)}
	for _, e := range es {
		if e.Kind == KindDir {
			sub, err := v.CopyFolder(ctx, secret, e.CID, e.Key, joinPath(name, e.Name), memo)
			if err != nil {
				return Entry{}, err
			}
			e.CID, e.Key = sub.CID, sub.Key
		}
		if err := dst.Put(ctx, "/"+e.Name, e); err != nil {
			return Entry{}, fmt.Errorf("failed to copy %s to share it: %w", joinPath(name, e.Name), err)
		}
	}
	top, blks, err := dst.Flush(ctx)
	if err != nil {
		return Entry{}, err
	}
	if err := v.blocks.Put(context.WithoutCancel(ctx), blks); err != nil {
		return Entry{}, fmt.Errorf("failed to store the shared copy of %s: %w", name, err)
	}
	out := Entry{Kind: KindDir, CID: top, Key: k, Mode: 0o755}
	if memo != nil {
		memo[c] = out
	}
	return out, nil
}

func joinPath(dir, name string) string {
	if dir == "/" || dir == "" {
		return "/" + name
	}
	return dir + "/" + name
}
