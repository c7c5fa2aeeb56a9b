// Package blockstore keeps a node's blocks, pins and small records in one
// Badger database and removes what no pin needs.
//
// Layout of keys in the datastore:
//
//	/blocks/...   block bytes, keyed by multihash (boxo's blockstore)
//	/pins/...     dspinner's pin index
//	/dht/...      LAN DHT records and provider records
//	/provider/... the reprovider's queue
//	/namesys/...  IPNS records and sequence numbers
//
// Blocks larger than the profile's value threshold land in Badger's value
// log, so LSM compactions do not rewrite them; value-log GC reclaims the
// space of deleted blocks on a timer.
package blockstore
