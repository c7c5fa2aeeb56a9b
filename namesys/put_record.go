package namesys

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
)

// PutRecord validates raw as a record of name and sends it on pubsub and
// to the DHT, as [System.Republish] does with the best record known: a
// node that kept a record (a donor, after a restart) puts it again
// without holding the name's key.
func (s *System) PutRecord(ctx context.Context, name peer.ID, raw []byte) (Record, error) {
	r, err := s.validRecord(name, raw)
	if err != nil {
		return Record{}, fmt.Errorf("failed to republish a record of %s: %w", name, err)
	}
	return r, s.put(ctx, name, raw, r.Seq, nil)
}
