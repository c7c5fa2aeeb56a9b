// Package folder keeps local folders identical to vault folders, both
// ways: a watcher (fsnotify, one watch per folder) and a periodic full
// rescan find what changed on disk, and every new head of the account
// is written to disk.
//
// # Disk to vault
//
// A changed path is scanned once it has been quiet for Settle (a file
// written for several seconds is taken once, complete; one that never
// stops changing is taken after MaxDelay), and a file whose content
// changed while it was read is queued again. The quick check compares
// size, mtime, mode and inode with the index; only what differs is read.
// One scan is one snapshot. A rename on disk (same inode) is a move in
// the vault, so other devices rename too. A path the vault changed too
// since the index (another device's edit not written here yet, or both
// sides holding a file when a folder is first added) goes into a second
// head, without parents, holding only those paths (and the head's
// folders on the way, same keys): merged with the account's head
// against an empty base, the vault's merge rules decide, so conflict
// copies are the merge's, named and filled the same on every device.
// Nothing here makes conflict copies. A removal on disk removes the
// vault's entry only if the vault still holds what was scanned (an edit
// elsewhere wins over a delete), and a vault folder only once empty.
//
// # Vault to disk
//
// On every new head the vault folder is compared with the index
// (folders the last pass found in sync are skipped by CID). Folder moves
// (same folder key) and file moves (same version) are renames; then
// folders are made, files written, removals done. A file is written to
// .peer.NAME.tmp beside its target and given its mode and mtime, the
// batch's files synced together (syncfs);
// then the batch's journal is synced; the target is checked against the
// index (a path changed here since the scan is left alone and scanned,
// and the merge decides); it is renamed into place (RENAME_NOREPLACE
// where nothing was), the folder synced, the index updated. What is
// replaced or removed was scanned, so it is in the vault's history. After
// a crash the journal is resolved at start: a rename that happened is
// recorded, one that did not is redone; temporary files are removed by
// the next scan.
//
// # Safety
//
// A folder holds the marker [Marker] from when it was added; without it
// (an unmounted disk) the folder stops and nothing is synced either way.
// A vault folder that disappeared stops the folder too. Vault names
// holding "..", "/", NUL or leading anywhere but below the folder are
// refused, and no write goes through a symlink: every folder on the way
// must be a real folder (checked with Lstat just before, as Syncthing
// does; a small window remains).
//
// Decisions:
//   - Symlinks are not synced either way and never followed; the scan
//     lists them as not synced. A symlink or a special file (fifo,
//     socket, device) where the vault has a file blocks that path, which
//     the status reports.
//   - Names are synced byte for byte, without Unicode normalization: the
//     Linux file systems peer runs on keep names as given. Names the
//     vault refuses (not UTF-8, over 255 bytes) are not synced.
//   - Case: at start a probe in the marker tells whether the file system
//     ignores case. If so, of vault names in one folder that differ only
//     in case, the first (bytewise) is written and the others are
//     reported, and a case-only rename is a rename of the same file.
//   - .peerignore (this device's own; not synced) has the syntax and
//     semantics of Syncthing's .stignore: one pattern per line, "//"
//     comments, "*" within a name, "**" across, "?", "[a-z]", "[!a-z]",
//     "{a,b}", "\" escaping; a leading "/" anchors at the folder's top,
//     otherwise a pattern matches at any depth; a pattern matches what
//     is below a folder it matches; prefixes "!" (not ignored), "(?i)"
//     (case-insensitive) and "(?d)" (may be removed when its folder is
//     removed); "#include FILE" (relative to the including file, inside
//     the folder); the first matching line decides. Not supported:
//     "#escape" (an error). Leading and trailing spaces of a line are
//     dropped, and a trailing "/" too. Ignored paths are neither sent
//     nor written; a folder holding ignored files is not removed.
//     The marker, .peerignore and .peer.*.tmp files are always ignored.
package folder
