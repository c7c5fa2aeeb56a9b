// Package gateway serves the node's blocks over HTTP as an IPFS gateway
// (boxo's) at /ipfs/ and /ipns/: plain IPFS content as files, and any
// block or DAG as trustless responses (a raw block, a CAR), so stock IPFS
// tools can fetch an account's encrypted DAG, or what `peer ipfs add`
// added, from the node. Names resolve through the node's own name system
// (the LAN DHT and pubsub); DNSLink is not looked up, since a LAN node asks
// no DNS server.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ipfs/boxo/blockservice"
	bgateway "github.com/ipfs/boxo/gateway"
	bnamesys "github.com/ipfs/boxo/namesys"
	"github.com/ipfs/boxo/path"
	ci "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/namesys"
)

// resolveTimeout bounds resolving a name for one request.
const resolveTimeout = 10 * time.Second

// New returns a handler for /ipfs/ and /ipns/ paths over bs, resolving
// names with ns.
func New(bs blockservice.BlockService, ns *namesys.System) (http.Handler, error) {
	backend, err := bgateway.NewBlocksBackend(bs,
		bgateway.WithNameSystem(names{ns}),
		bgateway.WithValueStore(records{ns}))
	if err != nil {
		return nil, fmt.Errorf("failed to start the gateway: %w", err)
	}
	return bgateway.NewHandler(bgateway.Config{
		DeserializedResponses: true,
		NoDNSLink:             true,
		RetrievalTimeout:      time.Minute,
	}, backend), nil
}

// names is the gateway's name system: IPNS names (peer IDs, accounts)
// through the node's namesys, nothing else.
type names struct{ ns *namesys.System }

var errDNSLink = errors.New("only IPNS names (account IDs, peer IDs) resolve here, not DNSLink")

func (n names) Resolve(ctx context.Context, p path.Path, _ ...bnamesys.ResolveOption) (bnamesys.Result, error) {
	if p.Namespace() != path.IPNSNamespace {
		return bnamesys.Result{Path: p}, nil
	}
	segs := p.Segments()
	if len(segs) < 2 {
		return bnamesys.Result{}, fmt.Errorf("%w: %s", bnamesys.ErrResolveFailed, p)
	}
	id, err := peer.Decode(segs[1])
	if err != nil {
		return bnamesys.Result{}, fmt.Errorf("%w: %s: %w", bnamesys.ErrResolveFailed, segs[1], errDNSLink)
	}
	rec, err := n.ns.Resolve(ctx, id, resolveTimeout)
	if err != nil {
		return bnamesys.Result{}, fmt.Errorf("%w: %w", bnamesys.ErrResolveFailed, err)
	}
	target := rec.Value
	if len(segs) > 2 {
		if target, err = path.Join(rec.Value, segs[2:]...); err != nil {
			return bnamesys.Result{}, err
		}
	}
	return bnamesys.Result{Path: target, TTL: namesys.TTL}, nil
}

func (n names) ResolveAsync(ctx context.Context, p path.Path, opts ...bnamesys.ResolveOption) <-chan bnamesys.AsyncResult {
	out := make(chan bnamesys.AsyncResult, 1)
	res, err := n.Resolve(ctx, p, opts...)
	out <- bnamesys.AsyncResult{Path: res.Path, TTL: res.TTL, LastMod: res.LastMod, Err: err}
	close(out)
	return out
}

func (names) Publish(context.Context, ci.PrivKey, path.Path, ...bnamesys.PublishOption) error {
	return errors.New("the gateway publishes nothing")
}
