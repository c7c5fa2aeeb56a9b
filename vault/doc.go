// Package vault holds an account's files, tree and history as encrypted
// IPLD blocks: the formats of SPEC.md, the keys they are sealed with, and
// the operations on them. It has no network code; blocks come and go
// through the Blocks interface, so any store (or a fetcher behind one) can
// carry them.
//
// What a reader of the blocks without keys sees: the DAG's shape (which
// block links to which, in clear so any IPFS node can pin it), block sizes,
// node kinds, and equal chunks or equal file contents within one account.
// Names, sizes of files, times, devices and directory listings are sealed.
package vault
