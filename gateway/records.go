package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/ipns"
	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/peer-cloud/peer/namesys"
)

// records answers the gateway's requests for IPNS records
// (?format=ipns-record) with the newest valid record the name system
// finds.
type records struct{ ns *namesys.System }

func (r records) GetValue(ctx context.Context, key string, _ ...routing.Option) ([]byte, error) {
	name, err := ipns.NameFromRoutingKey([]byte(key))
	if err != nil {
		return nil, fmt.Errorf("failed to read the IPNS name: %w", err)
	}
	rec, err := r.ns.Resolve(ctx, name.Peer(), resolveTimeout)
	if err != nil {
		return nil, routing.ErrNotFound
	}
	return rec.Raw, nil
}

func (r records) SearchValue(ctx context.Context, key string, opts ...routing.Option) (<-chan []byte, error) {
	v, err := r.GetValue(ctx, key, opts...)
	if err != nil {
		return nil, err
	}
	out := make(chan []byte, 1)
	out <- v
	close(out)
	return out, nil
}

func (records) PutValue(context.Context, string, []byte, ...routing.Option) error {
	return errors.New("the gateway stores no records")
}
