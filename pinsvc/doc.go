// Package pinsvc serves the IPFS Pinning Service API (the /pins routes of
// ipfs/pinning-services-api-spec, v1) so that stock IPFS tools, such as
// Kubo's 'ipfs pin remote', can ask a node to fetch and keep a DAG. Each
// client holds a bearer token the node issued; a pin request's DAG is
// fetched over the node's network (from its origins, or any holder) and
// kept pinned until the request is deleted.
package pinsvc
