package namesys

import (
	"context"
	"errors"
	"sync/atomic"
)

// Stats counts the records this node sent since it started.
type Stats struct {
	// Signed counts the records Publish signed (this node's own names).
	Signed uint64
	// Sent counts the records sent on pubsub and to the DHT: those
	// signed, and those put again by Republish and PutRecord.
	Sent uint64
	// PubsubFailed counts the records whose send on pubsub failed.
	PubsubFailed uint64
	// DHTOK and DHTFailed count the DHT puts that ended, taken or not;
	// DHTCanceled those cut short, by a newer record of the same name
	// or by the caller's context ending.
	DHTOK, DHTFailed, DHTCanceled uint64
}

// counters are a System's Stats.
type counters struct {
	signed, sent, pubsubFailed    atomic.Uint64
	dhtOK, dhtFailed, dhtCanceled atomic.Uint64
}

// dhtDone counts a DHT put that ended with err.
func (c *counters) dhtDone(err error) {
	switch {
	case err == nil:
		c.dhtOK.Add(1)
	case errors.Is(err, context.Canceled):
		c.dhtCanceled.Add(1)
	default:
		c.dhtFailed.Add(1)
	}
}

// Stats returns the counts of records sent. It takes no lock.
func (s *System) Stats() Stats {
	c := &s.stats
	return Stats{
		Signed: c.signed.Load(), Sent: c.sent.Load(), PubsubFailed: c.pubsubFailed.Load(),
		DHTOK: c.dhtOK.Load(), DHTFailed: c.dhtFailed.Load(), DHTCanceled: c.dhtCanceled.Load(),
	}
}
