// Command hostile runs a misbehaving LAN peer against real daemons, for
// tests: it floods an account's blocks topic from ever new identities (a
// Sybil flood), replays the account's old records, spams DHT puts, floods
// wantlists and sends malformed streams, all at once, for a bounded time
// and count. It listens and dials only what it is told. At the end it
// prints one JSON line of what it sent.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-multihash"

	"github.com/peer-cloud/peer/internal/hostile"
	"github.com/peer-cloud/peer/vault"
)

type targets []peer.AddrInfo

func (t *targets) String() string { return fmt.Sprint(*t) }
func (t *targets) Set(s string) error {
	ai, err := peer.AddrInfoFromString(s)
	if err != nil {
		return err
	}
	*t = append(*t, *ai)
	return nil
}

// summary is what the run sent.
type summary struct {
	Identities   int64 `json:"identities"`
	BlockMsgs    int64 `json:"block_messages"`
	Replays      int64 `json:"replayed_records"`
	DHTPuts      int64 `json:"dht_puts_accepted"`
	Wants        int64 `json:"wants"`
	GarbageSent  int64 `json:"garbage_streams"`
	RecordsHeard int   `json:"records_heard"`
	Errors       []string
}

func main() {
	var (
		to       targets
		listen   = flag.String("listen", "/ip4/127.0.0.1/tcp/0", "address to listen on")
		account  = flag.String("account", "", "account ID whose topics to attack")
		duration = flag.Duration("duration", 60*time.Second, "how long to attack")
		perID    = flag.Int("per-identity", 20, "block announcements sent by each identity before it takes a new one")
		maxMsgs  = flag.Int("block-messages", 100000, "most block announcements in all")
		dhtPuts  = flag.Int("dht-puts", 20000, "most DHT records to put")
		wants    = flag.Int("wants", 100000, "most blocks to want")
		garbage  = flag.Int("garbage", 2000, "most malformed streams to open")
		replay   = flag.Bool("replay", true, "replay overheard records")
	)
	flag.Var(&to, "target", "a daemon to attack, /ip4/.../p2p/ID (repeat)")
	flag.Parse()
	if len(to) == 0 || *account == "" {
		fmt.Fprintln(os.Stderr, "hostile: need --target and --account")
		os.Exit(2)
	}
	name, err := vault.ParseAccountID(*account)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var sum summary
	var errMu sync.Mutex
	report := func(err error) {
		if err != nil && ctx.Err() == nil {
			errMu.Lock()
			if len(sum.Errors) < 20 {
				sum.Errors = append(sum.Errors, err.Error())
			}
			errMu.Unlock()
		}
	}

	// One identity stays: it overhears and replays records, spams the
	// DHT and wantlists, and sends garbage.
	p, err := hostile.New(ctx, *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
	defer p.Close()
	for _, t := range to {
		report(p.Connect(ctx, t))
	}
	rec, err := p.Record(ctx, name)
	report(err)

	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	run(func() { // Sybil flood of the blocks topic
		topic := "/peer/blocks/1/" + *account
		var sent atomic.Int64
		for ctx.Err() == nil && sent.Load() < int64(*maxMsgs) {
			q, err := hostile.New(ctx, *listen)
			if err != nil {
				report(err)
				return
			}
			atomic.AddInt64(&sum.Identities, 1)
			for _, t := range to {
				report(q.Connect(ctx, t))
			}
			// Wait (briefly) until a target sees it on the topic.
			q.Publish(ctx, topic, nil)
			for i := 0; i < 100 && ctx.Err() == nil && !slices.ContainsFunc(to, func(t peer.AddrInfo) bool { return slices.Contains(q.TopicPeers(topic), t.ID) }); i++ {
				time.Sleep(10 * time.Millisecond)
			}
			n, err := q.Flood(ctx, topic, *perID, func(i int) []byte { return tinyBlocks(int(sent.Load()) + i) })
			report(err)
			sent.Add(int64(n))
			atomic.StoreInt64(&sum.BlockMsgs, sent.Load())
			q.Close()
		}
	})
	run(func() { // replays of overheard records
		for ctx.Err() == nil && *replay {
			if rs := rec.Records(); len(rs) > 1 {
				if err := p.Replay(ctx, name, rs[:len(rs)-1], 1); err == nil {
					atomic.AddInt64(&sum.Replays, int64(len(rs)-1))
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	run(func() {
		n, err := p.SpamDHT(ctx, *dhtPuts, func() { atomic.AddInt64(&sum.DHTPuts, 1) })
		report(err)
		_ = n
	})
	run(func() {
		report(p.FloodWants(ctx, *wants))
		sum.Wants = int64(*wants)
	})
	run(func() {
		protos := []string{"/meshsub/1.1.0", "/ipfs/lan/kad/1.0.0", "/ipfs/bitswap/1.2.0", "/ipfs/id/1.0.0"}
		per := *garbage / len(protos)
		for _, t := range to {
			for _, pr := range protos {
				for i := 0; i < per && ctx.Err() == nil; i++ {
					if err := p.Garbage(ctx, t.ID, protocolID(pr), 1, 64<<10); err != nil {
						if !strings.Contains(err.Error(), "protocols not supported") {
							report(err)
						}
						break
					}
					atomic.AddInt64(&sum.GarbageSent, 1)
				}
			}
		}
	})
	wg.Wait()
	<-ctx.Done() // attacks that ended early leave the peer connected to the end
	sum.RecordsHeard = len(rec.Records())
	json.NewEncoder(os.Stdout).Encode(sum)
}

// tinyBlocks is one well-formed announcement of 1000 distinct 4-byte
// blocks: the flood that the cache once kept forever.
func tinyBlocks(i int) []byte {
	var out []byte
	for j := 0; j < 1000; j++ {
		data := []byte{byte(i), byte(i >> 8), byte(j), byte(j >> 8)}
		mh, _ := multihash.Sum(append(data, byte(i>>16)), multihash.SHA2_256, -1)
		c := cid.NewCidV1(cid.Raw, mh)
		b, _ := blocks.NewBlockWithCid(append(data, byte(i>>16)), c)
		cb := b.Cid().Bytes()
		out = binary.AppendUvarint(out, uint64(len(cb)))
		out = append(out, cb...)
		out = binary.AppendUvarint(out, uint64(len(b.RawData())))
		out = append(out, b.RawData()...)
	}
	return out
}

func protocolID(s string) protocol.ID { return protocol.ID(s) }
