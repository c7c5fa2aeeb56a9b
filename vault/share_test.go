package vault

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/blockstore"
)

// badgerBlocks is the real Badger-backed block store, in a temporary
// folder.
func badgerBlocks(t *testing.T) Blocks {
	t.Helper()
	st, err := blockstore.Open(context.Background(), t.TempDir(), blockstore.ProfileDefault, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return LocalBlocks(st.Blockstore())
}

// shareFixture is a vault with one file version and a share of its path.
type shareFixture struct {
	v     *Vault
	file  Entry
	share FollowShare
}

func newShareFixture(t *testing.T, bs Blocks) shareFixture {
	t.Helper()
	ctx := context.Background()
	v := New(testAccount(t, 1), bs)
	fv, err := v.WriteFile(ctx, strings.NewReader("the report\n"), FileInput{Name: "report.pdf", Mode: 0o640, Mtime: 1767225600e9})
	if err != nil {
		t.Fatal(err)
	}
	var secret [32]byte
	for i := range secret {
		secret[i] = byte(0x80 + i)
	}
	return shareFixture{
		v:     v,
		file:  Entry{Name: fv.Name, Kind: KindFile, CID: fv.CID, Key: fv.Key, Size: fv.Size, Mtime: fv.Mtime, Mode: fv.Mode},
		share: FollowShare{Secret: secret, Path: "/docs/report.pdf", Made: 1767225601e9, Expires: 1769817600e9},
	}
}

func TestShareRoundTrip(t *testing.T) {
	ctx := context.Background()
	fx := newShareFixture(t, badgerBlocks(t))
	c, err := fx.v.WriteShare(ctx, fx.share, &fx.file)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCID(c); err != nil || c.Prefix().Codec != cid.DagCBOR {
		t.Fatalf("share node CID %s: %v", c, err)
	}
	data, err := fx.v.Blocks().Get(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := BlockKind(c, data); err != nil || k != "share" {
		t.Fatalf("BlockKind = %q, %v", k, err)
	}
	got, err := ReadShare(ctx, fx.v.Blocks(), c, fx.share.Secret)
	if err != nil {
		t.Fatal(err)
	}
	want := SharedFile{Kind: KindFile, CID: fx.file.CID, Key: fx.file.Key, Name: "report.pdf", Size: fx.file.Size, Mtime: fx.file.Mtime, Mode: 0o640, Expires: fx.share.Expires}
	if !got.CID.Equals(want.CID) || got != want {
		t.Fatalf("ReadShare = %+v, want %+v", got, want)
	}
	owner, err := fx.v.ShareOwner(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if owner != fx.share {
		t.Fatalf("ShareOwner = %+v, want %+v", owner, fx.share)
	}
	// Another device of the account (another vault over the same
	// account) reads the owner part too.
	if o, err := New(testAccount(t, 1), fx.v.Blocks()).ShareOwner(ctx, c); err != nil || o != fx.share {
		t.Fatalf("ShareOwner on another device: %+v, %v", o, err)
	}
	// The tag in clear is the secret's.
	var n shareNode
	if err := unmarshal(data, &n); err != nil {
		t.Fatal(err)
	}
	if tag := ShareTag(fx.share.Secret); !bytes.Equal(n.Tag, tag[:]) || len(n.Links) != 1 || !n.Links[0].Equals(fx.file.CID) {
		t.Fatalf("node in clear: tag %x, links %v", n.Tag, n.Links)
	}
}

func TestShareGivesNothing(t *testing.T) {
	ctx := context.Background()
	fx := newShareFixture(t, badgerBlocks(t))
	ended := fx.share
	ended.Ended = 1767225700e9
	for name, tc := range map[string]struct {
		s    FollowShare
		file *Entry
	}{
		"no file":                 {fx.share, nil},
		"ended, a file given":     {ended, &fx.file},
		"ended, no file given":    {ended, nil},
		"another path, no expiry": {FollowShare{Secret: fx.share.Secret, Path: "/x"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := fx.v.WriteShare(ctx, tc.s, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadShare(ctx, fx.v.Blocks(), c, tc.s.Secret)
			if err != nil {
				t.Fatal(err)
			}
			if got.CID.Defined() || got.Key != ([32]byte{}) || got.Name != "" || got.Ended != tc.s.Ended || got.Expires != tc.s.Expires {
				t.Fatalf("ReadShare = %+v", got)
			}
			if o, err := fx.v.ShareOwner(ctx, c); err != nil || o != tc.s {
				t.Fatalf("ShareOwner = %+v, %v", o, err)
			}
		})
	}
}

func TestShareOtherSecret(t *testing.T) {
	ctx := context.Background()
	fx := newShareFixture(t, badgerBlocks(t))
	c, err := fx.v.WriteShare(ctx, fx.share, &fx.file)
	if err != nil {
		t.Fatal(err)
	}
	other := fx.share.Secret
	other[31] ^= 1
	if _, err := ReadShare(ctx, fx.v.Blocks(), c, other); !errors.Is(err, ErrOtherShare) {
		t.Fatalf("ReadShare with another secret: %v, want ErrOtherShare", err)
	}
	if _, err := ReadShare(ctx, fx.v.Blocks(), c, [32]byte{}); !errors.Is(err, ErrOtherShare) {
		t.Fatalf("ReadShare with a zero secret: %v, want ErrOtherShare", err)
	}
}

func TestShareOwnerOtherAccount(t *testing.T) {
	ctx := context.Background()
	fx := newShareFixture(t, badgerBlocks(t))
	c, err := fx.v.WriteShare(ctx, fx.share, &fx.file)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(testAccount(t, 2), fx.v.Blocks()).ShareOwner(ctx, c)
	var de *DamagedError
	if !errors.As(err, &de) || !de.CID.Equals(c) || !strings.Contains(err.Error(), "owner part") {
		t.Fatalf("ShareOwner by another account: %v, want a DamagedError on the owner part", err)
	}
	// The link's holder needs no key of the account.
	if _, err := ReadShare(ctx, New(testAccount(t, 2), fx.v.Blocks()).Blocks(), c, fx.share.Secret); err != nil {
		t.Fatalf("ReadShare through another account's vault: %v", err)
	}
}

func TestShareDeterministic(t *testing.T) {
	ctx := context.Background()
	bs := badgerBlocks(t)
	fx := newShareFixture(t, bs)
	a, err := fx.v.WriteShare(ctx, fx.share, &fx.file)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fx.v.WriteShare(ctx, fx.share, &fx.file)
	if err != nil {
		t.Fatal(err)
	}
	// Another device: another vault of the account, its own rand, over
	// another store.
	other := New(testAccount(t, 1), newMem(), WithRand(bytes.NewReader(bytes.Repeat([]byte{0x42}, 1<<10))), WithDevice("other"))
	c, err := other.WriteShare(ctx, fx.share, &fx.file)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equals(b) || !a.Equals(c) {
		t.Fatalf("one share and file give %s, %s, %s", a, b, c)
	}
	// Any change gives another node.
	seen := map[cid.Cid]string{a: "the share"}
	file2 := fx.file
	file2.Mtime++
	for name, s := range map[string]FollowShare{
		"made":    {Secret: fx.share.Secret, Path: fx.share.Path, Made: fx.share.Made + 1, Expires: fx.share.Expires},
		"expires": {Secret: fx.share.Secret, Path: fx.share.Path, Made: fx.share.Made},
		"path":    {Secret: fx.share.Secret, Path: "/docs/other.pdf", Made: fx.share.Made, Expires: fx.share.Expires},
		"ended":   {Secret: fx.share.Secret, Path: fx.share.Path, Made: fx.share.Made, Expires: fx.share.Expires, Ended: 1},
	} {
		c, err := fx.v.WriteShare(ctx, s, &fx.file)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[c]; ok {
			t.Fatalf("a change of %s gives the node of %s", name, prev)
		}
		seen[c] = name
	}
	if c, _ := fx.v.WriteShare(ctx, fx.share, &file2); seen[c] != "" {
		t.Fatalf("another mtime gives the node of %s", seen[c])
	}
}

// reseal stores n (a share node, changed) as a block and returns its CID.
func reseal(t *testing.T, bs Blocks, n shareNode) cid.Cid {
	t.Helper()
	b, err := marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := newBlock(cborPrefix, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := bs.Put(context.Background(), []blocks.Block{blk}); err != nil {
		t.Fatal(err)
	}
	return blk.Cid()
}

func TestShareTampered(t *testing.T) {
	ctx := context.Background()
	fx := newShareFixture(t, badgerBlocks(t))
	bs := fx.v.Blocks()
	c, err := fx.v.WriteShare(ctx, fx.share, &fx.file)
	if err != nil {
		t.Fatal(err)
	}
	data, err := bs.Get(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var good shareNode
	if err := unmarshal(data, &good); err != nil {
		t.Fatal(err)
	}
	clone := func() shareNode {
		n := good
		n.Tag, n.Owner, n.Body = bytes.Clone(good.Tag), bytes.Clone(good.Owner), bytes.Clone(good.Body)
		n.Links = append([]Link(nil), good.Links...)
		return n
	}
	other, _ := cborPrefix.Sum([]byte("another version"))
	raw, _ := rawPrefix.Sum([]byte("a chunk"))
	for _, tc := range []struct {
		name        string
		change      func(*shareNode)
		readOK      bool // ReadShare still opens it
		ownerOK     bool // ShareOwner still opens it
		otherShare  bool // ReadShare says ErrOtherShare
		wantInError string
	}{
		{name: "a byte of the body", change: func(n *shareNode) { n.Body[len(n.Body)-1] ^= 1 }, ownerOK: true},
		{name: "the body's nonce", change: func(n *shareNode) { n.Body[0] ^= 1 }, ownerOK: true},
		{name: "the link", change: func(n *shareNode) { n.Links[0] = Link{other} }, ownerOK: true},
		{name: "the link dropped", change: func(n *shareNode) { n.Links = []Link{} }, ownerOK: true},
		{name: "a raw link", change: func(n *shareNode) { n.Links[0] = Link{raw} }, wantInError: "not a dag-cbor link"},
		{name: "two links", change: func(n *shareNode) { n.Links = append(n.Links, Link{other}) }, wantInError: "2 links"},
		{name: "a byte of the owner part", change: func(n *shareNode) { n.Owner[len(n.Owner)-1] ^= 1 }},
		{name: "the tag", change: func(n *shareNode) { n.Tag[0] ^= 1 }, otherShare: true},
		{name: "a short tag", change: func(n *shareNode) { n.Tag = n.Tag[:15] }, wantInError: "tag of 15 bytes"},
		{name: "the version", change: func(n *shareNode) { n.V = 2 }, wantInError: "version"},
		{name: "the type", change: func(n *shareNode) { n.Type = "file" }, wantInError: "not a share"},
		{name: "an empty body", change: func(n *shareNode) { n.Body = nil }, ownerOK: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := clone()
			tc.change(&n)
			bad := reseal(t, bs, n)
			_, err := ReadShare(ctx, bs, bad, fx.share.Secret)
			switch {
			case tc.otherShare:
				if !errors.Is(err, ErrOtherShare) {
					t.Fatalf("ReadShare: %v, want ErrOtherShare", err)
				}
			case tc.readOK:
				if err != nil {
					t.Fatalf("ReadShare: %v", err)
				}
			default:
				var de *DamagedError
				if !errors.As(err, &de) {
					t.Fatalf("ReadShare of a tampered node: %v, want a DamagedError", err)
				}
				if !strings.Contains(err.Error(), tc.wantInError) {
					t.Fatalf("ReadShare: %q, want it to say %q", err, tc.wantInError)
				}
			}
			o, err := fx.v.ShareOwner(ctx, bad)
			if tc.ownerOK {
				if err != nil || o != fx.share {
					t.Fatalf("ShareOwner: %+v, %v", o, err)
				}
				return
			}
			var de *DamagedError
			if !errors.As(err, &de) {
				t.Fatalf("ShareOwner of a tampered node: %v, want a DamagedError", err)
			}
		})
	}
	// The owner part of one share moved into another's node: its tag
	// is not the owner's secret.
	fx2 := fx.share
	fx2.Secret[0] ^= 0xff
	c2, err := fx.v.WriteShare(ctx, fx2, nil)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := bs.Get(ctx, c2)
	var n2 shareNode
	if err := unmarshal(d2, &n2); err != nil {
		t.Fatal(err)
	}
	n2.Owner = good.Owner
	if _, err := fx.v.ShareOwner(ctx, reseal(t, bs, n2)); err == nil {
		t.Fatal("ShareOwner took an owner part sealed for another tag")
	}
	// Not a share node, or not held.
	if _, err := ReadShare(ctx, bs, fx.file.CID, fx.share.Secret); err == nil || !strings.Contains(err.Error(), "not a share") {
		t.Fatalf("ReadShare of a file node: %v", err)
	}
	missing, _ := cborPrefix.Sum([]byte("missing"))
	if _, err := ReadShare(ctx, bs, missing, fx.share.Secret); !errors.Is(err, ErrMissing) {
		t.Fatalf("ReadShare of a block not held: %v, want ErrMissing", err)
	}
	if _, err := ReadShare(ctx, bs, raw, fx.share.Secret); err == nil {
		t.Fatal("ReadShare of a raw CID succeeded")
	}
}
