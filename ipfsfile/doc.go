// Package ipfsfile adds and reads plain (unencrypted) UnixFS content, the
// format every IPFS node reads: CIDv1, 1 MiB raw leaves, 1024 links per
// node (IPIP-499's unixfs-v1-2025 profile). It has no network code: reads
// go through a Fetcher, which a p2p node provides.
package ipfsfile
