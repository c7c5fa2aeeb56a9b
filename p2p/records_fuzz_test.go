package p2p

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	ds "github.com/ipfs/go-datastore"
	recpb "github.com/libp2p/go-libp2p-record/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"google.golang.org/protobuf/proto"
)

// FuzzRecordExpired: the sweep decodes every DHT record on disk (written
// there from any peer's PUT_VALUE); whatever the bytes, it decides without
// failing, and a fresh valid record is kept.
func FuzzRecordExpired(f *testing.F) {
	now := time.Now()
	sk, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	p, _ := path.NewPath("/ipfs/bafkqaaa")
	rec, err := ipns.NewRecord(sk, p, 1, now.Add(time.Hour), time.Minute)
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := ipns.MarshalRecord(rec)
	fresh, _ := proto.Marshal(&recpb.Record{Key: []byte("k"), Value: raw, TimeReceived: now.UTC().Format(time.RFC3339Nano)})
	old, _ := proto.Marshal(&recpb.Record{Key: []byte("k"), Value: raw, TimeReceived: now.Add(-100 * time.Hour).UTC().Format(time.RFC3339Nano)})
	f.Add(true, fresh)
	f.Add(false, fresh)
	f.Add(true, old)
	f.Add(true, []byte{0x0a, 0xff, 0xff})
	s := &recordStore{maxAge: 48 * time.Hour}
	freshKept := !s.expired(ds.NewKey("/ipns/x"), fresh, now)
	if !freshKept {
		f.Fatal("a fresh valid IPNS record counts as expired")
	}
	f.Fuzz(func(t *testing.T, ipnsKey bool, v []byte) {
		k := ds.NewKey("/pk/x")
		if ipnsKey {
			k = ds.NewKey("/ipns/x")
		}
		s.expired(k, v, now)
	})
}
