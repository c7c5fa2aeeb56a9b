//go:build !linux

package p2p

import (
	"context"
	"errors"
)

// watchInterfaces has no event source here: mDNS looks at the interfaces
// on address updates and every mdnsRecheck.
func watchInterfaces(ctx context.Context) (<-chan struct{}, error) {
	return nil, errors.New("interface events are read on Linux only")
}
