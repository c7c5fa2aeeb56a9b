package folder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// The datastore (the repo's Badger, under its own namespace) holds, per
// folder ID:
//
//	/list/ID          the folder (JSON: Config)
//	/index/ID/REL     what the disk held at REL (marshalEntry)
//	/journal/ID/REL   a change to REL on disk in flight (marshalJournal)
//
// A journal record is written (synced) before a file is renamed into
// place or a scanned change is committed, and removed with the index
// update after it; the next start resolves any left (recover.go).

// folderID names a folder in the datastore: a hash of its local path.
func folderID(dir string) string {
	h := sha256.Sum256([]byte(dir))
	return hex.EncodeToString(h[:8])
}

func listKey(id string) ds.Key { return ds.RawKey("/list/" + id) }
func indexPrefix(id string) string {
	return "/index/" + id + "/"
}
func journalPrefix(id string) string { return "/journal/" + id + "/" }

// Config is a folder as stored and as listed.
type Config struct {
	// Dir is the local folder, absolute and with symlinks resolved.
	Dir string `json:"dir"`
	// Vault is the vault folder it is kept identical to ("/Photos").
	Vault string `json:"vault"`
	// Added is when it was added (unix nanoseconds).
	Added int64 `json:"added"`
}

// loadConfigs reads every folder stored.
func loadConfigs(ctx context.Context, d ds.Datastore) ([]Config, error) {
	res, err := d.Query(ctx, query.Query{Prefix: "/list"})
	if err != nil {
		return nil, fmt.Errorf("failed to read the synced folders: %w", err)
	}
	defer res.Close()
	var out []Config
	for r := range res.Next() {
		if r.Error != nil {
			return nil, fmt.Errorf("failed to read the synced folders: %w", r.Error)
		}
		var c Config
		if err := json.Unmarshal(r.Value, &c); err != nil || c.Dir == "" || c.Vault == "" {
			return nil, fmt.Errorf("failed to read the synced folder %s (damaged record; remove it with 'peer sync rm' and add it again): %v", r.Key, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func saveConfig(ctx context.Context, d ds.Datastore, c Config) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	k := listKey(folderID(c.Dir))
	if err := d.Put(ctx, k, b); err != nil {
		return fmt.Errorf("failed to save the synced folder %s: %w", c.Dir, err)
	}
	return d.Sync(ctx, k)
}

// dropFolder removes a folder's record, index and journal.
func dropFolder(ctx context.Context, d ds.Batching, id string) error {
	b, err := d.Batch(ctx)
	if err != nil {
		return err
	}
	for _, prefix := range []string{indexPrefix(id), journalPrefix(id)} {
		keys, err := keysUnder(ctx, d, prefix)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(ctx, k); err != nil {
				return err
			}
		}
	}
	if err := b.Delete(ctx, listKey(id)); err != nil {
		return err
	}
	if err := b.Commit(ctx); err != nil {
		return fmt.Errorf("failed to forget the synced folder: %w", err)
	}
	return d.Sync(ctx, ds.RawKey("/"))
}

func keysUnder(ctx context.Context, d ds.Datastore, prefix string) ([]ds.Key, error) {
	res, err := d.Query(ctx, query.Query{Prefix: strings.TrimSuffix(prefix, "/"), KeysOnly: true})
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var out []ds.Key
	for r := range res.Next() {
		if r.Error != nil {
			return nil, r.Error
		}
		out = append(out, ds.RawKey(r.Key))
	}
	return out, nil
}

// loadRecords calls fn with the path and value of every record under
// prefix.
func loadRecords(ctx context.Context, d ds.Datastore, prefix string, fn func(rel string, v []byte) error) error {
	res, err := d.Query(ctx, query.Query{Prefix: strings.TrimSuffix(prefix, "/")})
	if err != nil {
		return err
	}
	defer res.Close()
	for r := range res.Next() {
		if r.Error != nil {
			return r.Error
		}
		rel, ok := strings.CutPrefix(r.Key, prefix)
		if !ok || rel == "" {
			continue
		}
		if err := fn(rel, r.Value); err != nil {
			return err
		}
	}
	return nil
}

// loadIndex reads a folder's index. A damaged record is dropped (the path
// is then scanned as new, which deletes nothing), and reported.
func loadIndex(ctx context.Context, d ds.Datastore, id string) (*index, []string, error) {
	ix := newIndex()
	var bad []string
	err := loadRecords(ctx, d, indexPrefix(id), func(rel string, v []byte) error {
		e, err := unmarshalEntry(v)
		if err != nil {
			bad = append(bad, rel)
			return nil
		}
		ix.set(rel, e)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read the folder's index: %w", err)
	}
	return ix, bad, nil
}

// writes gathers index and journal updates into one batch.
type writes struct {
	id  string
	ops []func(context.Context, ds.Batch) error
}

func (w *writes) setEntry(rel string, e *entry) {
	k := ds.RawKey(indexPrefix(w.id) + rel)
	if e == nil {
		w.ops = append(w.ops, func(ctx context.Context, b ds.Batch) error { return b.Delete(ctx, k) })
		return
	}
	v := marshalEntry(*e)
	w.ops = append(w.ops, func(ctx context.Context, b ds.Batch) error { return b.Put(ctx, k, v) })
}

func (w *writes) setJournal(rel string, j *journal) {
	k := ds.RawKey(journalPrefix(w.id) + rel)
	if j == nil {
		w.ops = append(w.ops, func(ctx context.Context, b ds.Batch) error { return b.Delete(ctx, k) })
		return
	}
	v := marshalJournal(*j)
	w.ops = append(w.ops, func(ctx context.Context, b ds.Batch) error { return b.Put(ctx, k, v) })
}

// commit writes the batch and syncs it to disk.
func (w *writes) commit(ctx context.Context, d ds.Batching) error {
	if len(w.ops) == 0 {
		return nil
	}
	b, err := d.Batch(ctx)
	if err != nil {
		return err
	}
	for _, op := range w.ops {
		if err := op(ctx, b); err != nil {
			return err
		}
	}
	if err := b.Commit(ctx); err != nil {
		return fmt.Errorf("failed to save the folder's index: %w", err)
	}
	if err := d.Sync(ctx, ds.RawKey("/")); err != nil {
		return fmt.Errorf("failed to save the folder's index: %w", err)
	}
	w.ops = nil
	return nil
}

var errBadJournal = errors.New("damaged folder journal record")
