package test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFolderLiveEdits (issue 10): two devices' folders follow each
// other's edits, additions, removals and new folders, both ways, bytes
// compared on both disks.
func TestFolderLiveEdits(t *testing.T) {
	_, devs := folderDevices(t, 2, nil)
	a, b := devs[0], devs[1]
	for i, x := range []struct{ from, to *fdev }{{a, b}, {b, a}, {a, b}, {b, a}} {
		data := bytes.Repeat([]byte{byte('a' + i)}, 50000+i*1000)
		write(t, x.from.Dir, "live.txt", data)
		write(t, x.from.Dir, fmt.Sprintf("sub%d/new-%s.txt", i, x.from.Name), []byte(x.from.Name))
		want := sum(data)
		converged(t, 20*time.Second, devs, func(m map[string]string) bool {
			return m["live.txt"] == want && m[fmt.Sprintf("sub%d/new-%s.txt", i, x.from.Name)] != ""
		})
	}
	if err := os.Remove(filepath.Join(b.Dir, "sub0/new-A.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(a.Dir, "sub1")); err != nil {
		t.Fatal(err)
	}
	m := converged(t, 20*time.Second, devs, func(m map[string]string) bool {
		_, f := m["sub0/new-A.txt"]
		_, d := m["sub1"]
		return !f && !d
	})
	if m["sub0"] != "dir" || m["live.txt"] == "" {
		t.Fatalf("tree after the removals: %s", showTree(m))
	}
}

// TestFolderOfflineEdits: three devices, all links down; each adds a
// file and edits another; once the links are back all three disks hold
// every change.
func TestFolderOfflineEdits(t *testing.T) {
	lan, devs := folderDevices(t, 3, func(i int, dir string) {
		if i == 0 {
			for k := range 3 {
				write(t, dir, fmt.Sprintf("doc%d.txt", k), []byte("first"))
			}
		}
	})
	converged(t, 30*time.Second, devs, func(m map[string]string) bool { return len(m) == 3 })
	setLinks(t, lan, false, 0, 1, 2)
	want := map[string]string{}
	for i, d := range devs {
		since := time.Now()
		data := []byte("edited offline on " + d.Name)
		write(t, d.Dir, fmt.Sprintf("doc%d.txt", i), data)
		want[fmt.Sprintf("doc%d.txt", i)] = sum(data)
		add := []byte("added offline on " + d.Name)
		write(t, d.Dir, "new/"+d.Name+".txt", add)
		want["new/"+d.Name+".txt"] = sum(add)
		d.scanned(t, since, 20*time.Second)
	}
	setLinks(t, lan, true, 0, 1, 2)
	want["new"] = "dir"
	m := converged(t, 60*time.Second, devs, func(m map[string]string) bool { return len(m) == len(want) })
	for p, s := range want {
		if m[p] != s {
			t.Fatalf("%s: %q, want %q; tree %s", p, m[p], s, showTree(m))
		}
	}
}

// TestFolderConflict: the same file edited on two offline devices ends
// as one conflict copy, the same name and bytes on every disk, the two
// edits between the file and the copy.
func TestFolderConflict(t *testing.T) {
	lan, devs := folderDevices(t, 3, func(i int, dir string) {
		if i == 0 {
			write(t, dir, "report.txt", []byte("v1"))
		}
	})
	converged(t, 30*time.Second, devs, func(m map[string]string) bool { return len(m) == 1 })
	setLinks(t, lan, false, 0, 1)
	edits := map[string]bool{}
	for _, d := range devs[:2] {
		since := time.Now()
		data := []byte("edited offline on " + d.Name + strings.Repeat("!", int(d.Name[0]-'A')))
		write(t, d.Dir, "report.txt", data)
		edits[sum(data)] = true
		d.scanned(t, since, 20*time.Second)
	}
	setLinks(t, lan, true, 0, 1)
	m := converged(t, 60*time.Second, devs, func(m map[string]string) bool { return len(m) == 2 })
	var copies []string
	for p := range m {
		if strings.HasPrefix(p, "report.sync-conflict-") && strings.HasSuffix(p, ".txt") {
			copies = append(copies, p)
		}
	}
	if len(copies) != 1 || !edits[m["report.txt"]] || !edits[m[copies[0]]] || m["report.txt"] == m[copies[0]] {
		t.Fatalf("want report.txt and one conflict copy holding the two edits; tree %s", showTree(m))
	}
	// Nothing more comes of it (no conflict copy of a conflict copy):
	// the trees stay as they are.
	stable(t, 2*time.Second, devs, m)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestFolderEditVersusDelete: a file edited on one offline device and
// removed on another comes back everywhere with the edit.
func TestFolderEditVersusDelete(t *testing.T) {
	lan, devs := folderDevices(t, 2, func(i int, dir string) {
		if i == 0 {
			write(t, dir, "keep/plan.txt", []byte("v1"))
		}
	})
	a, b := devs[0], devs[1]
	converged(t, 30*time.Second, devs, func(m map[string]string) bool { return len(m) == 2 })
	setLinks(t, lan, false, 0, 1)
	since := time.Now()
	edit := []byte("edited on A while B removed it")
	write(t, a.Dir, "keep/plan.txt", edit)
	a.scanned(t, since, 20*time.Second)
	since = time.Now()
	if err := os.RemoveAll(filepath.Join(b.Dir, "keep")); err != nil {
		t.Fatal(err)
	}
	b.scanned(t, since, 20*time.Second)
	setLinks(t, lan, true, 0, 1)
	converged(t, 60*time.Second, devs, func(m map[string]string) bool { return m["keep/plan.txt"] == sum(edit) })
}

// TestFolderMoveNoDownload: a folder of 40 files of 256 KiB renamed and
// moved on A is renamed on B: the files keep their inodes there (a
// write would make new ones) and B fetches next to nothing.
func TestFolderMoveNoDownload(t *testing.T) {
	_, devs := folderDevices(t, 2, nil)
	a, b := devs[0], devs[1]
	const n, size = 40, 256 << 10
	for i := range n {
		buf := make([]byte, size)
		rand.Read(buf)
		write(t, a.Dir, fmt.Sprintf("big/part%02d/f%02d.bin", i%4, i), buf)
	}
	converged(t, 60*time.Second, devs, func(m map[string]string) bool { return len(m) == n+5 })
	inodes := func(dir string) map[string]uint64 {
		m := map[string]uint64{}
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				m[fi.Name()] = fi.Sys().(*syscall.Stat_t).Ino
			}
			return nil
		})
		return m
	}
	before := inodes(filepath.Join(b.Dir, "big"))
	bs0 := bitswapStat(t, b.Peer)
	blocks0 := repoBlocks(t, b)
	if err := os.MkdirAll(filepath.Join(a.Dir, "archive/2026"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(a.Dir, "big"), filepath.Join(a.Dir, "archive/2026/moved")); err != nil {
		t.Fatal(err)
	}
	converged(t, 60*time.Second, devs, func(m map[string]string) bool {
		_, old := m["big"]
		return !old && m["archive/2026/moved/part00/f00.bin"] != ""
	})
	after := inodes(filepath.Join(b.Dir, "archive/2026/moved"))
	if len(after) != n {
		t.Fatalf("%d files moved on B, want %d", len(after), n)
	}
	for name, ino := range before {
		if after[name] != ino {
			t.Errorf("%s was written again on B (inode %d, was %d), not renamed", name, after[name], ino)
		}
	}
	bs1 := bitswapStat(t, b.Peer)
	got := bs1.DataReceived - bs0.DataReceived
	newBlocks := repoBlocks(t, b) - blocks0
	t.Logf("B received %d bytes by Bitswap and stored %d new blocks for the move of %d MiB", got, newBlocks, n*size>>20)
	if got > n*size/20 || newBlocks > 40 {
		t.Errorf("B received %d bytes and %d new blocks for a move: a re-download", got, newBlocks)
	}
}

func repoBlocks(t *testing.T, d *fdev) int {
	t.Helper()
	var st struct{ Blocks int }
	if err := json.Unmarshal([]byte(d.MustRun("repo", "stat", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks
}

// TestFolderManyFiles: 2 000 small files (-folder.files, 10 000 in
// issue 10) in 100 folders on A reach an empty folder on B; bytes
// compared.
func TestFolderManyFiles(t *testing.T) {
	n := *folderFiles
	start := time.Now()
	_, devs := folderDevices(t, 2, func(i int, dir string) {
		if i != 0 {
			return
		}
		for k := range n {
			write(t, dir, fmt.Sprintf("d%02d/f%05d.txt", k%100, k), []byte(fmt.Sprintf("file %d\n", k)))
		}
	})
	added := time.Now()
	a := devs[0]
	waitFor(t, 150*time.Second, "A's scan", func() bool { return a.status(t).Files == n })
	t.Logf("A's scan committed after %v", time.Since(added).Round(time.Millisecond))
	m := converged(t, 150*time.Second, devs, func(m map[string]string) bool { return len(m) == n+min(n, 100) })
	t.Logf("%d files on B %v after both folders were added (setup %v)", n, time.Since(added).Round(time.Millisecond), added.Sub(start).Round(time.Millisecond))
	if os.Getenv("PEER_TEST_LOGS") != "" {
		t.Logf("B's log:\n%s", devs[1].Logs())
	}
	if k := n - 1; m[fmt.Sprintf("d%02d/f%05d.txt", k%100, k)] != sum([]byte(fmt.Sprintf("file %d\n", k))) {
		t.Fatal("wrong bytes")
	}
}

// TestFolderKillWhileApplying: B is killed (SIGKILL) while it writes a
// big file (64 MiB) and 2 000 small ones from A. No target holds part of a file;
// the next start completes what is left.
func TestFolderKillWhileApplying(t *testing.T) {
	_, devs := folderDevices(t, 2, nil)
	a, b := devs[0], devs[1]
	big := make([]byte, 64<<20)
	rand.Read(big)
	want := map[string][]byte{"big.bin": big}
	for k := range 2000 {
		want[fmt.Sprintf("small/f%04d", k)] = []byte(fmt.Sprintf("small file %d", k))
	}
	for p, data := range want {
		write(t, a.Dir, p, data)
	}
	// Kill B as soon as it has begun writing to its disk.
	end := time.Now().Add(60 * time.Second)
	for {
		des, _ := os.ReadDir(filepath.Join(b.Dir, "small"))
		tmps, _ := filepath.Glob(filepath.Join(b.Dir, ".peer.*.tmp"))
		if len(des) > 0 || len(tmps) > 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("B did not start writing within 60 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Kill()
	partial := 0
	m := tree(t, b.Dir)
	for p, s := range m {
		if s == "dir" {
			continue
		}
		if d, ok := want[p]; !ok || sum(d) != s {
			t.Errorf("after the kill, %s on B holds %s: not what A wrote", p, s[:8])
		}
	}
	for p := range want {
		if _, ok := m[p]; !ok {
			partial++
		}
	}
	t.Logf("killed B with %d of %d files missing", partial, len(want))
	if partial == 0 {
		t.Log("B had written everything before the kill: the test proves less")
	}
	b.Start()
	m = converged(t, 120*time.Second, devs, func(m map[string]string) bool { return len(m) == len(want)+1 })
	if m["big.bin"] != sum(big) {
		t.Fatal("big.bin differs")
	}
	tmps, _ := filepath.Glob(filepath.Join(b.Dir, ".peer.*.tmp"))
	if len(tmps) > 0 {
		// The next scan removes them; one is due at start.
		b.scanned(t, time.Now(), 20*time.Second)
		if tmps, _ = filepath.Glob(filepath.Join(b.Dir, ".peer.*.tmp")); len(tmps) > 0 {
			t.Fatalf("temporary files left: %v", tmps)
		}
	}
}

// TestFolderMarkerRemoved: B's folder loses its marker and then its
// files (a disk unmounted under the folder): B stops, and A deletes
// nothing. Once the marker and files are back, B syncs again.
func TestFolderMarkerRemoved(t *testing.T) {
	_, devs := folderDevices(t, 2, func(i int, dir string) {
		if i == 0 {
			for k := range 20 {
				write(t, dir, fmt.Sprintf("photos/p%02d.jpg", k), []byte(fmt.Sprintf("photo %d", k)))
			}
		}
	})
	a, b := devs[0], devs[1]
	full := converged(t, 30*time.Second, devs, func(m map[string]string) bool { return len(m) == 21 })
	if err := os.RemoveAll(filepath.Join(b.Dir, ".peer-folder")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(b.Dir, "photos")); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(20 * time.Second)
	for b.status(t).State != "stopped" {
		if time.Now().After(end) {
			t.Fatalf("B did not stop: %+v", b.status(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := b.status(t); !strings.Contains(st.LastError, "marker") {
		t.Fatalf("B's error: %q", st.LastError)
	}
	// A change on A is not written to B's unmounted folder either.
	since := time.Now()
	write(t, a.Dir, "photos/new.jpg", []byte("new"))
	a.scanned(t, since, 20*time.Second)
	time.Sleep(2 * time.Second) // what B would have done, it would have done by now
	if got := tree(t, a.Dir); len(got) != 22 {
		t.Fatalf("A's folder after B lost its marker: %s", showTree(got))
	}
	if out := a.MustRun("ls", "/Shared/photos"); len(strings.Fields(out)) != 21 {
		t.Fatalf("A's vault after B lost its marker: %q", out)
	}
	if got := tree(t, b.Dir); len(got) != 0 {
		t.Fatalf("B wrote into a folder without its marker: %s", showTree(got))
	}
	_ = full
}

// TestFolderIgnore: what B's .peerignore matches is neither written to
// B's disk nor sent from it; the rest syncs.
func TestFolderIgnore(t *testing.T) {
	_, devs := folderDevices(t, 2, func(i int, dir string) {
		if i == 1 {
			write(t, dir, ".peerignore", []byte("// B's own\n*.log\n/build\n!keep.tmp\n(?i)*.TMP\n"))
		}
	})
	a, b := devs[0], devs[1]
	for _, p := range []string{"a.log", "build/out.o", "src/build/kept.go", "x.tmp", "keep.tmp", "notes.txt"} {
		write(t, a.Dir, p, []byte(p))
	}
	for _, p := range []string{"b.log", "build/b.o", "from-b.txt"} {
		write(t, b.Dir, p, []byte(p))
	}
	since := time.Now()
	b.scanned(t, since, 20*time.Second)
	waitFor(t, 20*time.Second, "B's files on A, A's on B", func() bool {
		ma, mb := tree(t, a.Dir), tree(t, b.Dir)
		return ma["from-b.txt"] != "" && mb["notes.txt"] != "" && mb["src/build/kept.go"] != "" && mb["keep.tmp"] != ""
	})
	// And for a while after: what is ignored does not cross.
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		ma, mb := tree(t, a.Dir), tree(t, b.Dir)
		for _, p := range []string{"b.log", "build/b.o"} {
			if _, ok := ma[p]; ok {
				t.Fatalf("B's ignored %s reached A", p)
			}
		}
		for _, p := range []string{"a.log", "build/out.o", "x.tmp"} {
			if _, ok := mb[p]; ok {
				t.Fatalf("A's %s, ignored on B, was written there", p)
			}
		}
		if mb["build/b.o"] != sum([]byte("build/b.o")) || mb["b.log"] == "" {
			t.Fatalf("B's own ignored files changed: %s", showTree(mb))
		}
	}
}

// TestFolderSlowWriter: a file written on A for 3 s, a piece every
// 50 ms, is taken once, complete: B gets the whole file and the vault
// has a single version of it.
func TestFolderSlowWriter(t *testing.T) {
	_, devs := folderDevices(t, 2, nil)
	a := devs[0]
	f, err := os.Create(filepath.Join(a.Dir, "recording.wav"))
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	for i := range 60 {
		piece := bytes.Repeat([]byte{byte(i)}, 8192)
		if _, err := f.Write(piece); err != nil {
			t.Fatal(err)
		}
		all = append(all, piece...)
		time.Sleep(50 * time.Millisecond)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	converged(t, 40*time.Second, devs, func(m map[string]string) bool { return m["recording.wav"] == sum(all) })
	var vs []struct{ ID string }
	if err := json.Unmarshal([]byte(a.MustRun("history", "/Shared/recording.wav", "--json")), &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 {
		t.Fatalf("%d versions of a file written once: %+v", len(vs), vs)
	}
}
