package folder

import (
	"bytes"
	"testing"

	cid "github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// FuzzParseIgnore: any ignore file parses or fails cleanly, and what
// parses matches any path without panicking.
func FuzzParseIgnore(f *testing.F) {
	for _, s := range []string{"*.log\n!keep\n/build\n", "(?i)(?d)**/x[!a-c]{y,z}?\n", "#include a\n", "[", "{a,{b,c}}", "\\*"} {
		f.Add([]byte(s), "a/b.log")
	}
	f.Fuzz(func(t *testing.T, data []byte, p string) {
		ig, err := ParseIgnore(data, func(string) ([]byte, error) { return []byte("*.x"), nil })
		if err != nil {
			return
		}
		ig.Match(p)
		ig.SkipDir(p)
	})
}

// FuzzIndexRecord: what the index and journal decoders accept from disk
// encodes back to the same bytes.
func FuzzIndexRecord(f *testing.F) {
	h, _ := multihash.Sum([]byte("x"), multihash.SHA2_256, -1)
	c := cid.NewCidV1(cid.DagCBOR, h)
	e := verEntry(c).withStat(diskStat{Kind: kindFile, Size: 5, Mtime: -3, Mode: 0o644, Inode: 99})
	d := keyEntry(bytes.Repeat([]byte{1}, 16)).withStat(diskStat{Kind: kindDir})
	f.Add(marshalEntry(e))
	f.Add(marshalEntry(d))
	f.Add(marshalJournal(journal{Op: opApply, Before: &e, After: &d, From: "a/b", Seq: 7}))
	f.Add(marshalJournal(journal{Op: opScan}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := unmarshalEntry(b); err == nil {
			if !bytes.Equal(marshalEntry(e), b) {
				t.Fatalf("entry %x re-encodes as %x", b, marshalEntry(e))
			}
		}
		if j, err := unmarshalJournal(b); err == nil {
			if !bytes.Equal(marshalJournal(j), b) {
				t.Fatalf("journal %x re-encodes as %x", b, marshalJournal(j))
			}
		}
	})
}
