package p2p_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	recpb "github.com/libp2p/go-libp2p-record/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multihash"
	"google.golang.org/protobuf/proto"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/p2p"
)

// ipnsRecord makes a valid IPNS record for a fresh key (or sk, if given),
// valid until eol, and returns its routing key and bytes.
func ipnsRecord(t testing.TB, sk crypto.PrivKey, seq uint64, eol time.Time, opts ...ipns.Option) (string, []byte) {
	t.Helper()
	if sk == nil {
		var err error
		if sk, _, err = crypto.GenerateEd25519Key(rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	id, err := peer.IDFromPrivateKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cid.V1Builder{Codec: cid.Raw, MhType: multihash.SHA2_256}.Sum([]byte(fmt.Sprint(seq)))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ipns.NewRecord(sk, path.FromCid(c), seq, eol, time.Minute, opts...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ipns.MarshalRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	return string(ipns.NameFromPeer(id).RoutingKey()), b
}

// dhtStream speaks the DHT's wire protocol by hand, as a hostile peer may.
type dhtStream struct {
	s network.Stream
	r *bufio.Reader
}

func openDHT(ctx context.Context, h host.Host, to peer.ID) (*dhtStream, error) {
	s, err := h.NewStream(ctx, to, p2p.DHTProtocol)
	if err != nil {
		return nil, err
	}
	return &dhtStream{s: s, r: bufio.NewReader(s)}, nil
}

// put sends one PUT_VALUE and waits for its echo; an error means the node
// refused it (and reset the stream).
func (d *dhtStream) put(key string, value []byte) error {
	m := &pb.Message{Type: pb.Message_PUT_VALUE, Key: []byte(key), Record: &recpb.Record{Key: []byte(key), Value: value}}
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := d.s.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...)); err != nil {
		return err
	}
	d.s.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := binary.ReadUvarint(d.r)
	if err == nil {
		_, err = io.CopyN(io.Discard, d.r, int64(n))
	}
	if err != nil {
		d.s.Reset()
	}
	return err
}

// plainHost is a libp2p host on 127.0.0.1 with no DHT of its own.
func plainHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.NoListenAddrs, libp2p.Transport(tcp.NewTCPTransport), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// flood puts total valid IPNS records for fresh keys to n from a series
// of fresh peer identities (a Sybil attacker defeats any per-peer bound),
// perPeer from each, opening a new stream after each refusal. It returns
// how many were accepted.
func flood(ctx context.Context, t testing.TB, n *p2p.Node, total, perPeer int, eol time.Time, opts ...ipns.Option) (accepted int) {
	t.Helper()
	for sent := 0; sent < total && ctx.Err() == nil; {
		h := plainHost(t)
		if err := h.Connect(ctx, n.AddrInfo()); err != nil {
			h.Close()
			t.Fatal(err)
		}
		var s *dhtStream
		for i := 0; i < perPeer && sent < total; i++ {
			if s == nil {
				var err error
				if s, err = openDHT(ctx, h, n.Host().ID()); err != nil {
					h.Close()
					t.Fatal(err)
				}
			}
			sent++
			k, v := ipnsRecord(t, nil, 1, eol, opts...)
			if s.put(k, v) != nil {
				s = nil
				continue
			}
			accepted++
		}
		h.Close()
	}
	return accepted
}

func waitRoutingTable(t *testing.T, d *dht.IpfsDHT, size int) {
	t.Helper()
	for i := 0; d.RoutingTable().Size() < size; i++ {
		if i == 500 {
			t.Fatalf("routing table has %d peers after 10 s; want %d", d.RoutingTable().Size(), size)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDHTPutFlood: 20 000 valid records for fresh keys, from many peer
// identities, leave the node's DHT records within the quota; a record held
// before the flood still takes updates, the node's own record is stored
// and resolvable by others, and the flood's records are swept once
// expired.
func TestDHTPutFlood(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n := p2p.TestNode(t, blockstore.ProfileDefault)
	legit := plainHost(t)
	defer legit.Close()
	if err := legit.Connect(ctx, n.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	ls, err := openDHT(ctx, legit, n.Host().ID())
	if err != nil {
		t.Fatal(err)
	}
	legitKey, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	now := time.Now()
	lk, lv := ipnsRecord(t, legitKey, 1, now.Add(72*time.Hour))
	if err := ls.put(lk, lv); err != nil {
		t.Fatalf("a record before the flood was refused: %v", err)
	}
	disk0, _ := n.Store().DiskUsage()

	start := time.Now()
	accepted := flood(ctx, t, n, 20000, 100, now.Add(time.Hour))
	st := n.RecordStat()
	disk1, _ := n.Store().DiskUsage()
	t.Logf("flood of 20000 puts in %v: %d accepted, %d refused; %d records, %d bytes held (quota %d, %d); disk %d -> %d bytes",
		time.Since(start).Round(time.Millisecond), accepted, st.Refused, st.Records, st.Bytes, st.MaxRecords, st.MaxBytes, disk0, disk1)
	if st.Records > st.MaxRecords || st.Bytes > st.MaxBytes {
		t.Fatalf("DHT holds %d records, %d bytes after the flood; quota %d, %d", st.Records, st.Bytes, st.MaxRecords, st.MaxBytes)
	}
	if st.Refused == 0 || accepted >= 20000 {
		t.Fatalf("no put refused (%d accepted)", accepted)
	}

	// A record held before the flood still takes a new version.
	_, lv2 := ipnsRecord(t, legitKey, 2, now.Add(72*time.Hour))
	if ls, err = openDHT(ctx, legit, n.Host().ID()); err != nil {
		t.Fatal(err)
	}
	if err := ls.put(lk, lv2); err != nil {
		t.Fatalf("update of a record held before the flood refused: %v", err)
	}
	if got, err := n.LocalRecord(ctx, lk); err != nil || string(got) != string(lv2) {
		t.Fatalf("node holds %d bytes for the updated record (%v); want the new version", len(got), err)
	}

	// The node's own record is stored, and another peer resolves it.
	ok, ov := ipnsRecord(t, n.Host().Peerstore().PrivKey(n.Host().ID()), 1, now.Add(24*time.Hour))
	r := p2p.TestNode(t, blockstore.ProfileDefault)
	if err := r.Connect(ctx, n.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	waitRoutingTable(t, r.DHT(), 1)
	waitRoutingTable(t, n.DHT(), 1)
	if err := n.DHT().PutValue(ctx, ok, ov); err != nil {
		t.Fatalf("own record not published during the flood: %v", err)
	}
	if got, err := n.LocalRecord(ctx, ok); err != nil || string(got) != string(ov) {
		t.Fatalf("node holds %d bytes for its own record (%v)", len(got), err)
	}
	if got, err := r.DHT().GetValue(ctx, ok); err != nil || string(got) != string(ov) {
		t.Fatalf("another peer resolved %d bytes for the node's own record (%v)", len(got), err)
	}

	// An hour on, the flood's records have expired and are swept; the
	// others stay, and a new name is taken again.
	res, err := n.SweepRecordsAt(ctx, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	st = n.RecordStat()
	t.Logf("sweep removed %d records (%d bytes); %d left", res.Removed, res.FreedBytes, st.Records)
	if res.Removed != accepted || st.Records != 2 {
		t.Fatalf("sweep removed %d records and left %d; want the flood's %d removed and 2 left", res.Removed, st.Records, accepted)
	}
	if _, err := n.LocalRecord(ctx, lk); err != nil {
		t.Fatalf("sweep removed a record still valid: %v", err)
	}
	nk, nv := ipnsRecord(t, nil, 1, now.Add(24*time.Hour))
	if ls, err = openDHT(ctx, legit, n.Host().ID()); err != nil {
		t.Fatal(err)
	}
	if err := ls.put(nk, nv); err != nil {
		t.Fatalf("a new name refused after the sweep: %v", err)
	}

	// Past kad-dht's maximum record age, records are swept whatever their
	// IPNS validity says.
	if res, err = n.SweepRecordsAt(ctx, now.Add(49*time.Hour)); err != nil {
		t.Fatal(err)
	}
	t.Logf("sweep 49 h on removed %d records; %d left", res.Removed, n.RecordStat().Records)
	if _, err := n.LocalRecord(ctx, lk); err == nil {
		t.Fatal("a record received 49 h ago outlived the sweep")
	}
	if st := n.RecordStat(); st.Records != 0 {
		t.Fatalf("%d records left after every record aged out", st.Records)
	}
}

// TestDHTPutRate: one peer sending puts as fast as it can gets no more
// than its burst and rate through.
func TestDHTPutRate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := p2p.TestNode(t, blockstore.ProfileDefault)
	h := plainHost(t)
	defer h.Close()
	if err := h.Connect(ctx, n.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	accepted, sent := 0, 0
	var s *dhtStream
	for ; sent < 400 && ctx.Err() == nil; sent++ {
		if s == nil {
			var err error
			if s, err = openDHT(ctx, h, n.Host().ID()); err != nil {
				t.Fatal(err)
			}
		}
		k, v := ipnsRecord(t, nil, 1, time.Now().Add(time.Hour))
		if s.put(k, v) != nil {
			s = nil
			continue
		}
		accepted++
	}
	elapsed := time.Since(start)
	limit := 100 + int(10*elapsed.Seconds()) + 1
	t.Logf("%d of %d puts accepted in %v (allowance %d)", accepted, sent, elapsed.Round(time.Millisecond), limit)
	if accepted > limit {
		t.Fatalf("one peer got %d puts through in %v; want at most %d", accepted, elapsed, limit)
	}
}

// TestDHTRecordBytesQuota: records padded towards IPNS's 10 KiB limit are
// bounded by the byte quota (here set low in the node's config).
func TestDHTRecordBytesQuota(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := blockstore.Open(ctx, t.TempDir(), blockstore.ProfileDefault, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	n, err := p2p.New(ctx, p2p.Config{Identity: sk, Store: st, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Records: p2p.RecordLimits{MaxBytes: 256 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	pad := ipns.WithMetadata(map[string]any{"pad": strings.Repeat("x", 8000)})
	accepted := flood(ctx, t, n, 100, 100, time.Now().Add(time.Hour), pad)
	rs := n.RecordStat()
	t.Logf("%d of 100 padded records accepted; %d records, %d bytes held (quota %d)", accepted, rs.Records, rs.Bytes, rs.MaxBytes)
	if rs.MaxBytes != 256<<10 || rs.Bytes > rs.MaxBytes || accepted == 100 {
		t.Fatalf("%d padded records accepted, %d bytes held; quota %d bytes", accepted, rs.Bytes, rs.MaxBytes)
	}
}
