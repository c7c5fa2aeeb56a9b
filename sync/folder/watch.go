package folder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fsnotify/fsnotify"
)

// watcher tells a folder which paths changed. fsnotify does not watch
// recursively: every folder that is not ignored gets a watch of its own,
// and a folder that appears gets one before it is scanned.
type watcher struct {
	f    *folder
	w    *fsnotify.Watcher
	done chan struct{}
}

// watchBuffer is the events fsnotify keeps while the folder is busy.
const watchBuffer = 4096

// startWatch starts the watcher; without one (no inotify instances
// left, too many folders) the folder runs on its periodic rescans and
// says why.
func (f *folder) startWatch(ctx context.Context) *watcher {
	fw, err := fsnotify.NewBufferedWatcher(watchBuffer)
	if err != nil {
		f.warn(fmt.Errorf("failed to watch %s, changes are seen at the periodic rescan only: %w", f.cfg.Dir, limitHint(err)))
		return nil
	}
	w := &watcher{f: f, w: fw, done: make(chan struct{})}
	w.addTree("")
	go w.loop(ctx)
	return w
}

func (w *watcher) close() {
	w.w.Close()
	<-w.done
}

// limitHint explains running out of inotify watches or instances.
func limitHint(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: out of inotify watches (one per folder); raise the limit, e.g. 'sudo sysctl fs.inotify.max_user_watches=524288' (and in /etc/sysctl.conf to keep it)", err)
	}
	if errors.Is(err, syscall.EMFILE) {
		return fmt.Errorf("%w: out of inotify instances; raise the limit, e.g. 'sudo sysctl fs.inotify.max_user_instances=512'", err)
	}
	return err
}

// addTree watches the folder at rel and every folder below it that is
// not ignored.
func (w *watcher) addTree(rel string) {
	f := w.f
	err := filepath.WalkDir(f.abs(rel), func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return nil // gone or unreadable: the scan reports it
		}
		if !de.IsDir() {
			return nil
		}
		r, _ := filepath.Rel(f.cfg.Dir, p)
		r = filepath.ToSlash(r)
		if r == "." {
			r = ""
		}
		if r != "" && (reserved(r) || f.ignore().SkipDir(r)) {
			return filepath.SkipDir
		}
		if err := w.w.Add(p); err != nil {
			if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.warn(fmt.Errorf("failed to watch every folder of %s, changes there are seen at the periodic rescan only: %w", f.cfg.Dir, limitHint(err)))
	}
}

func (w *watcher) loop(ctx context.Context) {
	defer close(w.done)
	f := w.f
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				f.log.Info("too many changes at once for the watcher: rescanning", "dir", f.cfg.Dir)
			}
			f.rescan()
		case ev, ok := <-w.w.Events:
			if !ok {
				return
			}
			rel, err := filepath.Rel(f.cfg.Dir, ev.Name)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			rel = filepath.ToSlash(rel)
			if rel == "." {
				rel = ""
			}
			if rel == Marker {
				f.rescan() // removed: the scan stops the folder
				continue
			}
			if rel != "" && reserved(rel) && rel != IgnoreFile {
				continue
			}
			if rel == IgnoreFile {
				f.rescan()
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					w.addTree(rel)
				}
			}
			f.markDirty(rel, nowFunc())
		}
	}
}

// warn records a problem that does not stop the folder.
func (f *folder) warn(err error) {
	f.mu.Lock()
	f.warning = err.Error()
	f.mu.Unlock()
	f.log.Warn("folder sync degraded", "dir", f.cfg.Dir, "err", err)
}
