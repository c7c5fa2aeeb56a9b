// Package remotepin keeps an account's newest root pinned at IPFS Pinning
// Service API endpoints (ipfs/pinning-services-api-spec) the owner names:
// one pin request per service, replaced with each new root, so that a
// service the account outgrew its LAN for holds its whole encrypted DAG.
package remotepin
