package folder

import (
	"slices"
	"time"
)

// maxOutOfSync bounds the paths a status lists (OutOfSyncCount has them
// all).
const maxOutOfSync = 1000

// Status is what a folder is doing and what it could not sync.
type Status struct {
	Config
	State State
	// Pending counts changes seen and not yet synced: paths waiting to
	// settle or to be scanned, and vault changes being written.
	Pending int
	// LastError is why the folder stopped or failed last ("" if it did
	// not); Warning is a problem that does not stop it (no watcher).
	LastError string
	Warning   string
	LastScan  time.Time
	LastSync  time.Time
	// Files and Folders the index holds.
	Files, Folders int
	// OutOfSync lists paths not in sync and why, by path.
	OutOfSync      []PathStatus
	OutOfSyncCount int
}

// PathStatus is a path that is not in sync, and why.
type PathStatus struct {
	Path   string // relative to the folder, with /
	Reason string
}

func (f *folder) status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := Status{
		Config: f.cfg, State: f.state,
		Pending:  len(f.dirty) + f.pendingN,
		Warning:  f.warning,
		LastScan: f.lastScan, LastSync: f.lastApply,
		Files: f.nFiles, Folders: f.nDirs,
	}
	if f.lastErr != nil {
		s.LastError = f.lastErr.Error()
	}
	why := map[string]string{}
	for p, r := range f.skipped {
		why[p] = r
	}
	for p, r := range f.blocked {
		why[p] = r
	}
	for p, r := range why {
		s.OutOfSync = append(s.OutOfSync, PathStatus{p, r})
	}
	slices.SortFunc(s.OutOfSync, func(a, b PathStatus) int { return cmpString(a.Path, b.Path) })
	s.OutOfSyncCount = len(s.OutOfSync)
	if len(s.OutOfSync) > maxOutOfSync {
		s.OutOfSync = s.OutOfSync[:maxOutOfSync]
	}
	return s
}

// counts publishes the index's size for status (the loop owns the index).
func (f *folder) counts() {
	files, dirs := 0, 0
	for _, e := range f.ix.ents {
		if e.Kind == kindFile {
			files++
		} else {
			dirs++
		}
	}
	f.mu.Lock()
	f.nFiles, f.nDirs = files, dirs
	f.mu.Unlock()
}
