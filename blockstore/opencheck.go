package blockstore

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
)

// Badger trusts its folder more than a store of someone's only copy may:
//
//   - with no MANIFEST it starts empty and deletes every table file;
//   - it deletes every table file the MANIFEST does not list, so a
//     truncated MANIFEST loses the tables of its lost records;
//   - a truncated table makes it panic in a goroutine of its own, which no
//     recover in the caller reaches, so the whole process dies.
//
// checkDir looks at the folder first and refuses what Badger would lose or
// crash on; Open runs it with the folder locked.

// ErrDamaged reports a store that Open refuses because opening it would
// lose data or crash Badger. The error names the folder and what to do.
var ErrDamaged = errors.New("the block store is damaged")

// manifestFile is Badger's list of table files (badger.ManifestFilename).
const manifestFile = "MANIFEST"

// unlistedPrefix starts the name of the folder, inside the store's, where
// table files the MANIFEST does not list are moved instead of deleted.
const unlistedPrefix = "unlisted-"

type damagedError struct{ msg string }

func (e *damagedError) Error() string        { return e.msg }
func (e *damagedError) Is(target error) bool { return target == ErrDamaged }

// damaged returns an ErrDamaged error: what is wrong with the store in
// dir, and hint, what the user should do.
func damaged(dir, what, hint string) error {
	return &damagedError{fmt.Sprintf("the block store in %s is damaged: %s; %s", dir, what, hint)}
}

// restoreHint is what to do with a store that cannot be opened.
func restoreHint(dir string) string {
	return fmt.Sprintf("restore %s from a backup, or move it away to start empty and fetch the vault again from another device of the account", dir)
}

// checkDir refuses a store folder Badger would empty or crash on, and moves
// table files the MANIFEST does not list (which Badger would delete) to a
// folder of their own. magic is Badger's ExternalMagicVersion.
func checkDir(dir string, magic uint16, log *slog.Logger) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("failed to read block store folder %s: %w", dir, err)
	}
	tables := map[uint64]string{}
	var data bool
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if id, ok := table.ParseFileID(name); ok {
			tables[id] = name
		}
		switch filepath.Ext(name) {
		case ".sst", ".vlog", ".mem":
			data = true
		}
	}
	m, torn, err := readManifest(filepath.Join(dir, manifestFile), magic)
	if errors.Is(err, fs.ErrNotExist) {
		if data {
			return damaged(dir, "it has data files but no MANIFEST", fmt.Sprintf("refusing to open it, which would make Badger delete them. Restore %s from a backup, or move the folder away to start empty", filepath.Join(dir, manifestFile)))
		}
		return nil
	}
	if err != nil {
		return damaged(dir, fmt.Sprintf("its MANIFEST cannot be read (%s)", firstLine(err.Error())), restoreHint(dir))
	}
	for _, id := range sortedIDs(m.Tables) {
		name, ok := tables[id]
		if !ok {
			return damaged(dir, fmt.Sprintf("its MANIFEST lists %s, which is missing", table.IDToFilename(id)), restoreHint(dir))
		}
		tm := m.Tables[id]
		if tm.KeyID != 0 {
			continue // encrypted: peer does not encrypt its store, and cannot check it
		}
		if err := checkTable(filepath.Join(dir, name), tm.Compression); err != nil {
			return damaged(dir, fmt.Sprintf("table file %s %s", name, err), restoreHint(dir))
		}
	}
	var unlisted []string
	for _, id := range sortedIDs(tables) {
		if _, ok := m.Tables[id]; !ok {
			unlisted = append(unlisted, tables[id])
		}
	}
	if len(unlisted) == 0 {
		return nil
	}
	if torn || len(m.Tables) == 0 {
		// A MANIFEST that lost its end, or that lists nothing while table
		// files are there, has most likely lost the records of these
		// tables: Badger would delete data that is nowhere else.
		return damaged(dir, fmt.Sprintf("its MANIFEST ends early and does not list %s", strings.Join(unlisted, ", ")),
			fmt.Sprintf("refusing to open it, which would make Badger delete them. Restore %s from a backup; or, if the machine lost power or the daemon crashed while writing, move those files out of the folder, start again and run 'peer repo verify'", dir))
	}
	// An intact MANIFEST that does not list some tables is what a crash
	// during a flush or compaction leaves: the data is in listed tables or
	// the write-ahead log too. Badger would delete them; move them aside.
	aside := filepath.Join(dir, unlistedPrefix+time.Now().UTC().Format("20060102T150405"))
	if err := os.MkdirAll(aside, 0o700); err != nil {
		return fmt.Errorf("failed to move aside table files the MANIFEST of %s does not list: %w", dir, err)
	}
	for _, name := range unlisted {
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(aside, name)); err != nil {
			return fmt.Errorf("failed to move aside table file %s the MANIFEST of %s does not list: %w", name, dir, err)
		}
	}
	log.Warn("moved table files the block store's MANIFEST does not list to a folder of their own instead of letting Badger delete them (a crash during a write leaves such files); run 'peer repo verify' and delete the folder if it reports nothing damaged or missing",
		"folder", aside, "files", unlisted)
	return nil
}

// readManifest replays Badger's MANIFEST at path without changing it.
// torn reports a partial record at its end, which Badger would cut off.
func readManifest(path string, magic uint16) (m badger.Manifest, torn bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return m, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return m, false, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("badger failed reading it: %s", firstLine(fmt.Sprint(r)))
		}
	}()
	m, end, err := badger.ReplayManifestFile(f, magic)
	if err != nil {
		return m, false, err
	}
	return m, end < fi.Size(), nil
}

// checkTable opens the table file at path as Badger will, in this
// goroutine, so that the panic a truncated table causes becomes an error.
// The error says what is wrong with the file, without its name.
func checkTable(path string, c options.CompressionType) (err error) {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot be opened (%w)", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("cannot be opened (%w)", err)
	}
	if fi.Size() == 0 {
		f.Close()
		return errors.New("is empty")
	}
	mf, err := z.OpenMmapFileUsing(f, 0, false)
	if err != nil {
		f.Close()
		return fmt.Errorf("cannot be mapped (%s)", firstLine(err.Error()))
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("is truncated or damaged (%d bytes)", fi.Size())
		}
		// OpenTable closes the mapping on some of its errors and not on
		// others; unmapping twice could unmap someone else's memory.
		if f.Fd() != ^uintptr(0) {
			mf.Close(-1)
		}
	}()
	if _, err := table.OpenTable(mf, table.Options{Compression: c, BlockSize: 4 << 10}); err != nil {
		return fmt.Errorf("is truncated or damaged (%s)", firstLine(err.Error()))
	}
	return nil
}

func sortedIDs[V any](m map[uint64]V) []uint64 {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// firstLine returns s up to its first line break: Badger's errors carry
// stack traces after it.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}
