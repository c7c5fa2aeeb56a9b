package folder

import (
	"fmt"
	"os"
)

// loadIgnore reads the folder's .peerignore again if it changed. A file
// that cannot be parsed stops the folder: syncing what it meant to
// leave out could not be undone.
func (f *folder) loadIgnore() error {
	st, ok, err := lstat(f.abs(IgnoreFile))
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", f.abs(IgnoreFile), err)
	}
	if !ok {
		st = diskStat{}
	}
	if f.ignLoaded && st == f.ignStat {
		return nil
	}
	var ig *Ignore
	if ok {
		if st.Kind != kindFile {
			return fmt.Errorf("%s is not a file", f.abs(IgnoreFile))
		}
		data, err := os.ReadFile(f.abs(IgnoreFile))
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", f.abs(IgnoreFile), err)
		}
		ig, err = ParseIgnore(data, func(rel string) ([]byte, error) {
			if err := realParents(f.cfg.Dir, rel); err != nil {
				return nil, err
			}
			st, ok, err := lstat(f.abs(rel))
			if err != nil || !ok || st.Kind != kindFile {
				return nil, fmt.Errorf("%s is not a file in the folder", rel)
			}
			return os.ReadFile(f.abs(rel))
		})
		if err != nil {
			return fmt.Errorf("failed to read %s (fix it; nothing is synced meanwhile): %w", f.abs(IgnoreFile), err)
		}
	}
	f.mu.Lock()
	f.ign = ig
	f.mu.Unlock()
	f.ignStat, f.ignLoaded = st, true
	// What was ignored may not be any more: look at everything again.
	clear(f.trees)
	return nil
}

// ignore returns the ignore rules, for other goroutines than the loop.
func (f *folder) ignore() *Ignore {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ign
}
