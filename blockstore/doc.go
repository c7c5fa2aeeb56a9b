// Package blockstore keeps a node's blocks, pins and small records in one
// Badger database and removes what no pin needs.
//
// Layout of keys in the datastore:
//
//	/blocks/...      block bytes, keyed by multihash (boxo's blockstore)
//	/pins/...        dspinner's pins and index
//	/dht/...         LAN DHT records and provider records
//	/provider/...    the reprovider's queue
//	/reprovide/...   the time of the last reprovide
//
// Namespaces handed to other parts must not share a name with a prefix that
// part writes itself: go-datastore v0.9's namespaces skip a prefix a key
// already has, so "/pins" wrapped around dspinner's "/pins/..." keys breaks
// its queries.
//
// Blocks larger than the profile's value threshold land in Badger's value
// log, so LSM compactions do not rewrite them; value-log GC reclaims the
// space of deleted blocks on a timer.
//
// Open checks the folder before Badger sees it (opencheck.go): Badger
// would empty a store whose MANIFEST is missing, delete table files the
// MANIFEST does not list, and crash on a truncated table. [Store.Verify]
// re-hashes every block and walks what GC keeps, as `peer repo verify`.
package blockstore
