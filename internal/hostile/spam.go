package hostile

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-multihash"
)

// SpamDHT puts count valid IPNS records of fresh keys to the DHT peers it
// knows (its routing table holds only the peers it connected to), as fast
// as they take them; it returns how many were accepted, calling accepted
// (if not nil) after each.
func (p *Peer) SpamDHT(ctx context.Context, count int, accepted func()) (int, error) {
	value, err := path.NewPath("/ipfs/bafkqaaa")
	if err != nil {
		return 0, err
	}
	ok := 0
	for i := 0; i < count && ctx.Err() == nil; i++ {
		sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			return ok, err
		}
		rec, err := ipns.NewRecord(sk, value, 1, time.Now().Add(48*time.Hour), time.Minute)
		if err != nil {
			return ok, err
		}
		raw, err := ipns.MarshalRecord(rec)
		if err != nil {
			return ok, err
		}
		id, err := peer.IDFromPrivateKey(sk)
		if err != nil {
			return ok, err
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = p.DHT.PutValue(pctx, string(ipns.NameFromPeer(id).RoutingKey()), raw)
		cancel()
		if err == nil {
			ok++
			if accepted != nil {
				accepted()
			}
		} else if ok == 0 && i == 100 {
			return ok, fmt.Errorf("no DHT put of 100 accepted: %w", err)
		}
	}
	return ok, nil
}

// FloodWants asks the connected peers for count blocks nobody has, in
// batches, so their Bitswap keeps wantlists for them.
func (p *Peer) FloodWants(ctx context.Context, count int) error {
	const batch = 512
	for done := 0; done < count && ctx.Err() == nil; done += batch {
		ks := make([]cid.Cid, 0, batch)
		for i := 0; i < batch; i++ {
			var b [32]byte
			rand.Read(b[:])
			mh, err := multihash.Sum(b[:], multihash.SHA2_256, -1)
			if err != nil {
				return err
			}
			ks = append(ks, cid.NewCidV1(cid.Raw, mh))
		}
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		ch, err := p.Bitswap.GetBlocks(wctx, ks)
		if err != nil {
			cancel()
			return fmt.Errorf("failed to want blocks: %w", err)
		}
		for range ch {
		}
		cancel()
	}
	return nil
}

// Garbage opens count streams to target on proto and writes size random
// bytes on each (a malformed message of whatever the protocol expects).
func (p *Peer) Garbage(ctx context.Context, target peer.ID, proto protocol.ID, count, size int) error {
	buf := make([]byte, size)
	for i := 0; i < count && ctx.Err() == nil; i++ {
		rand.Read(buf)
		// A length prefix that claims more than is sent, now and then.
		if i%2 == 0 && size > 4 {
			buf[0], buf[1], buf[2], buf[3] = 0xff, 0xff, 0xff, 0x7f
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := p.Host.NewStream(sctx, target, proto)
		cancel()
		if err != nil {
			return fmt.Errorf("failed to open a %s stream: %w", proto, err)
		}
		s.SetDeadline(time.Now().Add(5 * time.Second))
		s.Write(buf)
		s.Close()
	}
	return nil
}
