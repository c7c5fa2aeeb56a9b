package replica

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/internal/frame"
)

// Answer is one peer's receipt, checked.
type Answer struct {
	Receipt
	Claimed int   // probes it answered with a proof
	Proved  int   // of those, the proofs that match the asker's own block
	Err     error // the peer did not answer well (nil with a receipt)
}

// Ask asks each of peers what it holds of account and to prove it holds
// probes, whose bytes the asker holds (mine gives them), in parallel;
// peers that do not speak the protocol are left out.
func Ask(ctx context.Context, h host.Host, peers []peer.ID, account peer.ID, probes []cid.Cid, mine func(cid.Cid) ([]byte, error)) []Answer {
	if len(probes) > MaxProbes {
		probes = probes[:MaxProbes]
	}
	req := Request{Account: account, Probes: probes}
	rand.Read(req.Nonce[:])
	want := make([][]byte, len(probes))
	for i, c := range probes {
		if data, err := mine(c); err == nil {
			want[i] = Proof(req.Nonce, data)
		}
	}
	msg, err := marshalRequest(req)
	if err != nil {
		return nil
	}
	var mu sync.Mutex
	var out []Answer
	var wg sync.WaitGroup
	for _, p := range peers {
		if p == h.ID() {
			continue
		}
		wg.Go(func() {
			a, ok := askOne(ctx, h, p, msg, req, want)
			if ok {
				mu.Lock()
				out = append(out, a)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return out
}

// askOne asks p; ok is false when p does not speak the protocol.
func askOne(ctx context.Context, h host.Host, p peer.ID, msg []byte, req Request, want [][]byte) (Answer, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	a := Answer{Receipt: Receipt{Holder: p}}
	s, err := h.NewStream(ctx, p, Protocol)
	if err != nil {
		return a, false
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(timeout))
	if err := frame.Write(s, msg); err != nil {
		a.Err = fmt.Errorf("failed to ask: %w", err)
		return a, true
	}
	s.CloseWrite()
	data, err := frame.Read(s, maxMessage)
	if err != nil {
		a.Err = fmt.Errorf("no receipt: %w", err)
		return a, true
	}
	r, err := openReceipt(data)
	switch {
	case err != nil:
		a.Err = err
	case r.Holder != p:
		a.Err = fmt.Errorf("a receipt signed by %s, not by the peer that sent it", r.Holder)
	case r.Account != req.Account || r.Nonce != req.Nonce || len(r.Proofs) != len(req.Probes):
		a.Err = fmt.Errorf("a receipt for another request")
	default:
		a.Receipt = r
		for i, p := range r.Proofs {
			if len(p) == 0 {
				continue
			}
			a.Claimed++
			if want[i] != nil && bytes.Equal(p, want[i]) {
				a.Proved++
			}
		}
	}
	return a, true
}
