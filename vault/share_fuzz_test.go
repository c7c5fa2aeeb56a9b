package vault

import (
	"bytes"
	"context"
	"testing"

	blocks "github.com/ipfs/go-block-format"
)

// FuzzReadShare feeds any bytes, stored as a DAG-CBOR block, to the
// readers of share nodes: ReadShare (a link's holder, on nodes from the
// network) and ShareOwner (a device, on its account's roots). Errors are
// fine, panics are not; a node ReadShare opens gives a key only with a
// version, and a node ShareOwner opens is one WriteShare
// writes again, to the same bytes, when it gives no version.
func FuzzReadShare(f *testing.F) {
	ctx := context.Background()
	acct, err := AccountFromSecret(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		f.Fatal(err)
	}
	var secret [32]byte
	for i := range secret {
		secret[i] = byte(0x80 + i)
	}
	mem := newMem()
	v := New(acct, mem)
	fv, err := v.WriteFile(ctx, bytes.NewReader([]byte("the report\n")), FileInput{Name: "report.pdf", Mode: 0o644, Mtime: 1767225600e9})
	if err != nil {
		f.Fatal(err)
	}
	file := Entry{Name: fv.Name, Kind: KindFile, CID: fv.CID, Key: fv.Key, Size: fv.Size, Mtime: fv.Mtime, Mode: fv.Mode}
	for _, tc := range []struct {
		s    FollowShare
		file *Entry
	}{
		{FollowShare{Secret: secret, Path: "/docs/report.pdf", Made: 1, Expires: 2}, &file},
		{FollowShare{Secret: secret, Path: "/docs/report.pdf", Made: 1, Ended: 3}, nil},
		{FollowShare{Secret: secret, Path: "/", Made: 1}, nil},
	} {
		c, err := v.WriteShare(ctx, tc.s, tc.file)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := mem.Get(ctx, c)
		f.Add(b)
	}
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		blk, err := newBlock(cborPrefix, data)
		if err != nil {
			return
		}
		bs := newMem()
		bs.Put(ctx, []blocks.Block{blk})
		if sf, err := ReadShare(ctx, bs, blk.Cid(), secret); err == nil {
			if !sf.CID.Defined() && sf.Key != ([32]byte{}) {
				t.Fatalf("ReadShare gave a key without a version: %+v", sf)
			}
		}
		ReadShare(ctx, bs, blk.Cid(), [32]byte{})
		vv := New(acct, bs)
		s, err := vv.ShareOwner(ctx, blk.Cid())
		if err != nil {
			return
		}
		if tag := ShareTag(s.Secret); !bytes.Contains(data, tag[:]) {
			t.Fatalf("ShareOwner gave a share whose tag is not in the node: %+v", s)
		}
		sf, err := ReadShare(ctx, bs, blk.Cid(), s.Secret)
		if err != nil || sf.CID.Defined() {
			return
		}
		again, err := vv.WriteShare(ctx, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Equals(blk.Cid()) && sf.Expires == s.Expires && sf.Ended == s.Ended && sf.Name == "" && sf.Size == 0 && sf.Mtime == 0 && sf.Mode == 0 {
			t.Fatalf("a share node that opens, giving nothing, is not the one WriteShare writes for it (%s, not %s)", again, blk.Cid())
		}
	})
}
