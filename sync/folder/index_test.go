package folder

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"

	cid "github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// TestIndexEntry: an entry holds a file's version or a folder's key hash
// in place, reads back from its record, and stays one 80-byte allocation
// (the index of a 100 000-file folder is resident on a pi).
func TestIndexEntry(t *testing.T) {
	if s := unsafe.Sizeof(entry{}); s > 72 {
		t.Errorf("an index entry is %d bytes, want at most 72 (an 80-byte allocation)", s)
	}
	h, _ := multihash.Sum([]byte("x"), multihash.SHA2_256, -1)
	c := cid.NewCidV1(cid.DagCBOR, h)
	other := cid.NewCidV1(cid.Raw, h)
	f := verEntry(c).withStat(diskStat{Kind: kindFile, Size: 5, Mtime: 7, Mode: 0o644, Inode: 9})
	if !f.isVer(c) || f.isVer(other) || f.isVer(cid.Undef) || !f.Ver().Equals(c) || f.Key() != nil {
		t.Fatalf("file entry: version %v, key %x", f.Ver(), f.Key())
	}
	d := keyEntry(bytes.Repeat([]byte{3}, 16)).withStat(diskStat{Kind: kindDir})
	if !bytes.Equal(d.Key(), bytes.Repeat([]byte{3}, 16)) || d.Ver().Defined() || d.isVer(c) {
		t.Fatalf("folder entry: version %v, key %x", d.Ver(), d.Key())
	}
	for _, e := range []entry{f, d} {
		back, err := unmarshalEntry(marshalEntry(e))
		if err != nil || back != e {
			t.Fatalf("entry %+v reads back as %+v, %v", e, back, err)
		}
	}
	// A CID too long to hold matches no version: the file is checked again.
	long, _ := multihash.Sum([]byte("x"), multihash.SHA2_512, -1)
	if l := verEntry(cid.NewCidV1(cid.DagCBOR, long)); l.Ver().Defined() || l.isVer(cid.NewCidV1(cid.DagCBOR, long)) {
		t.Fatal("a 70-byte CID was recorded")
	}
	// Non-shortest numbers are refused, so every record has one encoding.
	b := marshalEntry(f)
	bad := append([]byte{b[0], b[1], 0x85, 0x00}, b[3:]...)
	if _, err := unmarshalEntry(bad); !errors.Is(err, errBadEntry) {
		t.Fatalf("a padded size: %v", err)
	}
}
