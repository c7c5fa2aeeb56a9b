// Package p2p runs a node's network side: a libp2p host (TCP and QUIC,
// Noise and TLS) limited to LAN and loopback addresses, mDNS discovery, a
// LAN DHT in server mode that speaks stock IPFS's /ipfs/lan/kad/1.0.0,
// gossipsub, Bitswap with the DHT as content routing, reproviding of pinned
// roots, and a windowed fetcher that keeps many blocks in flight.
package p2p
