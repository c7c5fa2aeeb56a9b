package share_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/share"
	"github.com/peer-cloud/peer/vault"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newClock() *clock { return &clock{t: start} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// secretReader gives share secrets: 32 bytes of b each time.
func secretReader(b byte) *bytes.Reader { return bytes.NewReader(bytes.Repeat([]byte{b}, 32)) }

func newDatastore() ds.Datastore { return dssync.MutexWrap(ds.NewMapDatastore()) }

// realBlocks is a Badger-backed block store in a temporary folder.
func realBlocks(t *testing.T) vault.Blocks {
	t.Helper()
	st, err := blockstore.Open(context.Background(), t.TempDir(), blockstore.ProfileDefault, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return vault.LocalBlocks(st.Blockstore())
}

func openState(t *testing.T, d ds.Datastore, c *clock) *share.State {
	t.Helper()
	s, err := share.Open(context.Background(), d, share.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const reportPath = "/docs/report.pdf"

// reportTree is a tree with a file at /docs/report.pdf, written through v.
func reportTree(t *testing.T, v *vault.Vault) (*vault.Tree, *vault.FileVersion) {
	t.Helper()
	ctx := context.Background()
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	fv, err := v.WriteFile(ctx, strings.NewReader("the report\n"), vault.FileInput{Name: "report.pdf", Mode: 0o644, Mtime: start.UnixNano()})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.PutFile(ctx, reportPath, fv); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Commit(ctx, tr); err != nil {
		t.Fatal(err)
	}
	return tr, fv
}

func rootOf(t *testing.T, s *share.State, v *vault.Vault, tr *vault.Tree) *vault.Root {
	t.Helper()
	cs, err := s.RootShares(context.Background(), v, tr)
	if err != nil {
		t.Fatal(err)
	}
	return &vault.Root{Box: v.Account().BoxPublic(), Shares: cs}
}

func learn(t *testing.T, s *share.State, v *vault.Vault, r *vault.Root) bool {
	t.Helper()
	lacks, err := s.Learn(context.Background(), v, r)
	if err != nil {
		t.Fatal(err)
	}
	return lacks
}

func bySecret(secret [32]byte) func(vault.FollowShare) bool {
	return func(f vault.FollowShare) bool { return f.Secret == secret }
}

func TestStatePersists(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	d := newDatastore()
	s := openState(t, d, c)
	if got := s.List(); len(got) != 0 {
		t.Fatalf("a new state lists %v", got)
	}
	a, err := s.Add(ctx, secretReader(1), "/a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Path != "/a" || a.Made != start.UnixNano() || a.Expires != 0 || a.Ended != 0 || a.Secret != [32]byte(bytes.Repeat([]byte{1}, 32)) {
		t.Fatalf("Add gave %+v", a)
	}
	c.add(time.Minute)
	b, err := s.Add(ctx, secretReader(2), "/b", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if b.Expires != b.Made+int64(time.Hour) {
		t.Fatalf("expires %d, want made + 1h", b.Expires)
	}
	c.add(time.Minute)
	if _, err := s.Add(ctx, bytes.NewReader([]byte{1, 2, 3}), "/c", 0); err == nil {
		t.Fatal("Add with a short secret reader succeeded")
	}
	if !slices.Equal(s.List(), []vault.FollowShare{a, b}) {
		t.Fatalf("List = %+v, want the two added, oldest first", s.List())
	}
	if !slices.Equal(openState(t, d, c).List(), []vault.FollowShare{a, b}) {
		t.Fatalf("after Open again: %+v", openState(t, d, c).List())
	}

	ended, err := s.End(ctx, func(f vault.FollowShare) bool { return f.Path == "/a" })
	if err != nil {
		t.Fatal(err)
	}
	wantA := a
	wantA.Ended = c.now().UnixNano()
	if !slices.Equal(ended, []vault.FollowShare{wantA}) {
		t.Fatalf("End gave %+v, want %+v", ended, wantA)
	}
	c.add(time.Minute)
	// An ended share does not end again, and its end time stays.
	if again, err := s.End(ctx, func(vault.FollowShare) bool { return true }); err != nil || len(again) != 1 || again[0].Secret != b.Secret {
		t.Fatalf("End of all: %+v, %v; want only /b", again, err)
	}
	if none, err := s.End(ctx, func(vault.FollowShare) bool { return true }); err != nil || len(none) != 0 {
		t.Fatalf("End with nothing live: %+v, %v", none, err)
	}
	wantB := b
	wantB.Ended = c.now().UnixNano()
	want := []vault.FollowShare{wantA, wantB}
	if !slices.Equal(s.List(), want) {
		t.Fatalf("List = %+v, want %+v", s.List(), want)
	}
	if got := openState(t, d, c).List(); !slices.Equal(got, want) {
		t.Fatalf("after Open again: %+v, want %+v", got, want)
	}
	if share.ShareID(a.Secret) == share.ShareID(b.Secret) || len(share.ShareID(a.Secret)) != 32 {
		t.Fatalf("ShareIDs %s, %s", share.ShareID(a.Secret), share.ShareID(b.Secret))
	}
}

func TestStateDamagedDatastore(t *testing.T) {
	ctx := context.Background()
	d := newDatastore()
	if err := d.Put(ctx, ds.NewKey("/follow"), []byte{0xff, 0x00}); err != nil {
		t.Fatal(err)
	}
	if _, err := share.Open(ctx, d); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Open of a damaged entry: %v", err)
	}
}

// twoDevices is one account's two devices: their own states over their
// own datastores and vaults over one real block store.
type twoDevices struct {
	c      *clock
	v1, v2 *vault.Vault
	d1, d2 *share.State
	tr     *vault.Tree
}

func newTwoDevices(t *testing.T) *twoDevices {
	acct := testAccount(t, 5)
	bs := realBlocks(t)
	td := &twoDevices{c: newClock()}
	td.v1 = vault.New(acct, bs, vault.WithDevice("device1"))
	td.v2 = vault.New(acct, bs, vault.WithDevice("device2"))
	td.d1 = openState(t, newDatastore(), td.c)
	td.d2 = openState(t, newDatastore(), td.c)
	td.tr, _ = reportTree(t, td.v1)
	return td
}

func TestStateConverge(t *testing.T) {
	for _, order := range []string{"device 1 learns first", "device 2 learns first"} {
		t.Run(order, func(t *testing.T) {
			ctx := context.Background()
			td := newTwoDevices(t)
			s1, err := td.d1.Add(ctx, secretReader(1), reportPath, 0)
			if err != nil {
				t.Fatal(err)
			}
			td.c.add(time.Second)
			s2, err := td.d2.Add(ctx, secretReader(2), "/docs/other", 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			td.c.add(time.Second)
			old1 := rootOf(t, td.d1, td.v1, td.tr) // S1 live, no S2
			if !learn(t, td.d2, td.v2, old1) {
				t.Fatal("device 2 learnt a root lacking S2 and says it lacks nothing")
			}
			if got := td.d2.List(); len(got) != 2 || got[0] != s1 || got[1] != s2 {
				t.Fatalf("device 2 lists %+v after learning S1", got)
			}
			ended, err := td.d2.End(ctx, bySecret(s1.Secret))
			if err != nil || len(ended) != 1 {
				t.Fatalf("device 2 ends S1: %+v, %v", ended, err)
			}
			td.c.add(time.Second)
			r2 := rootOf(t, td.d2, td.v2, td.tr) // S1 ended, S2

			if order == "device 1 learns first" {
				if learn(t, td.d1, td.v1, r2) {
					t.Fatal("device 1 learnt a root that lists all it knows and says it lacks some")
				}
				// Device 1's root now lists what device 2's does.
				if learn(t, td.d2, td.v2, rootOf(t, td.d1, td.v1, td.tr)) {
					t.Fatal("device 2 learnt device 1's new root and says it lacks some")
				}
			} else {
				// Device 2 takes in device 1's old root again: S1 stays ended.
				if !learn(t, td.d2, td.v2, old1) {
					t.Fatal("device 2 learnt a root with S1 live and no S2, and says it lacks nothing")
				}
				if learn(t, td.d1, td.v1, r2) {
					t.Fatal("device 1 learnt device 2's root and says it lacks some")
				}
			}
			l1, l2 := td.d1.List(), td.d2.List()
			if !slices.Equal(l1, l2) {
				t.Fatalf("the devices list\n%+v\n%+v", l1, l2)
			}
			if len(l1) != 2 || l1[0].Secret != s1.Secret || l1[0].Ended != ended[0].Ended || l1[1] != s2 {
				t.Fatalf("the devices list %+v", l1)
			}
			f1, f2 := rootOf(t, td.d1, td.v1, td.tr), rootOf(t, td.d2, td.v2, td.tr)
			if !slices.Equal(f1.Shares, f2.Shares) {
				t.Fatalf("the devices write share nodes\n%v\n%v", f1.Shares, f2.Shares)
			}
			if !slices.Equal(f1.Shares, r2.Shares) {
				t.Fatalf("device 1 writes %v, device 2 wrote %v", f1.Shares, r2.Shares)
			}
			if learn(t, td.d1, td.v1, f2) || learn(t, td.d2, td.v2, f1) {
				t.Fatal("a device says an equal root lacks a share")
			}
			// The old root once more, on both: the end stays, and both
			// say the old root lacks it.
			if !learn(t, td.d1, td.v1, old1) || !learn(t, td.d2, td.v2, old1) {
				t.Fatal("a device says the root from before the end lacks nothing")
			}
			for i, s := range []*share.State{td.d1, td.d2} {
				if got := s.List(); !slices.Equal(got, l1) {
					t.Fatalf("device %d after the old root: %+v, want %+v", i+1, got, l1)
				}
			}
			// The share nodes are sorted by tag.
			var tags [][16]byte
			for _, f := range l1 {
				tags = append(tags, vault.ShareTag(f.Secret))
			}
			slices.SortFunc(tags, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
			for i, c := range f1.Shares {
				o, err := td.v1.ShareOwner(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				if vault.ShareTag(o.Secret) != tags[i] {
					t.Fatalf("share node %d is not in tag order", i)
				}
			}
			// The reader side: S1 says it ended, S2's path holds no file.
			if _, err := share.Followed(ctx, td.v1.Blocks(), f1, s1.Secret, td.c.now()); err == nil || !strings.Contains(err.Error(), "ended this share") {
				t.Fatalf("Followed of S1: %v", err)
			}
			if _, err := share.Followed(ctx, td.v1.Blocks(), f1, s2.Secret, td.c.now()); err == nil || !strings.Contains(err.Error(), "holds no file") {
				t.Fatalf("Followed of S2: %v", err)
			}
		})
	}
}

// TestStateJoin: two devices that each learnt a different end and expiry
// of one share keep the earliest of each, whichever learns which.
func TestStateJoin(t *testing.T) {
	ctx := context.Background()
	td := newTwoDevices(t)
	s, err := td.d1.Add(ctx, secretReader(3), reportPath, 10*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	td.c.add(time.Second)
	learn(t, td.d2, td.v2, rootOf(t, td.d1, td.v1, td.tr))
	// Both end it while apart: device 2 first.
	td.c.add(time.Minute)
	e2, _ := td.d2.End(ctx, bySecret(s.Secret))
	td.c.add(time.Minute)
	e1, _ := td.d1.End(ctx, bySecret(s.Secret))
	if len(e1) != 1 || len(e2) != 1 || e2[0].Ended >= e1[0].Ended {
		t.Fatalf("ends %+v %+v", e1, e2)
	}
	r1, r2 := rootOf(t, td.d1, td.v1, td.tr), rootOf(t, td.d2, td.v2, td.tr)
	if slices.Equal(r1.Shares, r2.Shares) {
		t.Fatal("two ends at different times give the same share node")
	}
	if learn(t, td.d1, td.v1, r2) {
		t.Fatal("device 1 learnt device 2's root, with the earlier end, and says it lacks something")
	}
	if !learn(t, td.d2, td.v2, r1) {
		t.Fatal("device 2 learnt a root with a later end and says it lacks nothing")
	}
	want := s
	want.Ended = e2[0].Ended
	for i, st := range []*share.State{td.d1, td.d2} {
		if got := st.List(); len(got) != 1 || got[0] != want {
			t.Fatalf("device %d lists %+v, want %+v", i+1, got, want)
		}
	}
	if a, b := rootOf(t, td.d1, td.v1, td.tr), rootOf(t, td.d2, td.v2, td.tr); !slices.Equal(a.Shares, b.Shares) || !slices.Equal(a.Shares, r2.Shares) {
		t.Fatal("the devices do not converge on device 2's node")
	}
}

func TestLearnSkipsBadNodes(t *testing.T) {
	ctx := context.Background()
	td := newTwoDevices(t)
	if _, err := td.d1.Add(ctx, secretReader(1), reportPath, 0); err != nil {
		t.Fatal(err)
	}
	r := rootOf(t, td.d1, td.v1, td.tr)
	// A share node of another account and a block not held.
	other := vault.New(testAccount(t, 6), td.v1.Blocks())
	oc, err := other.WriteShare(ctx, vault.FollowShare{Secret: [32]byte{9}, Path: "/x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Shares = append(r.Shares, oc, cborCID(t, "not held"))
	lacks, err := td.d2.Learn(ctx, td.v2, r)
	if err == nil {
		t.Fatal("Learn of a root with a foreign share node and a missing block says nothing")
	}
	if lacks {
		t.Fatal("Learn says the root lacks something")
	}
	if got := td.d2.List(); len(got) != 1 || got[0].Path != reportPath {
		t.Fatalf("Learn took %+v", got)
	}
}

func TestForgotten(t *testing.T) {
	ctx := context.Background()
	td := newTwoDevices(t)
	s, _ := td.d1.Add(ctx, secretReader(1), reportPath, 0)
	td.d1.End(ctx, bySecret(s.Secret))
	ended := rootOf(t, td.d1, td.v1, td.tr)
	if len(ended.Shares) != 1 {
		t.Fatalf("an ended share gives %d nodes", len(ended.Shares))
	}
	td.c.add(91 * 24 * time.Hour)
	if r := rootOf(t, td.d1, td.v1, td.tr); len(r.Shares) != 0 {
		t.Fatalf("a share ended 91 days ago is still listed: %v", r.Shares)
	}
	// A device that never knew it does not take it from an old root.
	if learn(t, td.d2, td.v2, ended) || len(td.d2.List()) != 0 {
		t.Fatalf("device 2 took a forgotten share: %+v", td.d2.List())
	}
	if learn(t, td.d1, td.v1, &vault.Root{}) {
		t.Fatal("device 1 says an empty root lacks a forgotten share")
	}
}

func TestExpiryAndFollowed(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	acct := testAccount(t, 5)
	v := vault.New(acct, realBlocks(t))
	tr, fv := reportTree(t, v)
	if err := tr.Mkdir(ctx, "/folder", false, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Commit(ctx, tr); err != nil {
		t.Fatal(err)
	}
	s := openState(t, newDatastore(), c)
	if !s.NextExpiry().IsZero() {
		t.Fatalf("NextExpiry of no shares: %v", s.NextExpiry())
	}
	exp, _ := s.Add(ctx, secretReader(1), reportPath, time.Hour)
	later, _ := s.Add(ctx, secretReader(2), reportPath, 2*time.Hour)
	forever, _ := s.Add(ctx, secretReader(3), reportPath, 0)
	gone, _ := s.Add(ctx, secretReader(4), "/nothing/here", 0)
	folder, _ := s.Add(ctx, secretReader(5), "/folder", 0)
	endMe, _ := s.Add(ctx, secretReader(6), reportPath, 30*time.Minute)
	if got := s.NextExpiry(); !got.Equal(start.Add(30 * time.Minute)) {
		t.Fatalf("NextExpiry = %v, want %v", got, start.Add(30*time.Minute))
	}
	c.add(time.Minute)
	if _, err := s.End(ctx, bySecret(endMe.Secret)); err != nil {
		t.Fatal(err)
	}
	if got := s.NextExpiry(); !got.Equal(start.Add(time.Hour)) {
		t.Fatalf("NextExpiry after an end = %v, want %v (an ended share does not expire)", got, start.Add(time.Hour))
	}

	r := rootOf(t, s, v, tr)
	if len(r.Shares) != 6 {
		t.Fatalf("%d share nodes, want 6", len(r.Shares))
	}
	follow := func(f vault.FollowShare, now time.Time) (vault.SharedFile, error) {
		return share.Followed(ctx, v.Blocks(), r, f.Secret, now)
	}
	got, err := follow(exp, c.now())
	if err != nil {
		t.Fatal(err)
	}
	if !got.CID.Equals(fv.CID) || got.Key != fv.Key || got.Name != "report.pdf" || got.Size != fv.Size || got.Mode != 0o644 || got.Mtime != fv.Mtime || got.Expires != exp.Expires || got.Ended != 0 {
		t.Fatalf("Followed gave %+v", got)
	}
	// A reader opens the version the share gives with the link's key.
	opened, err := share.OpenFile(ctx, vault.New(testAccount(t, 8), v.Blocks()), got.CID, got.Key)
	if err != nil || opened.Hash != fv.Hash {
		t.Fatalf("OpenFile of the shared version: %v", err)
	}
	if _, err := share.OpenFile(ctx, vault.New(testAccount(t, 8), v.Blocks()), got.CID, [32]byte{1}); !errors.Is(err, share.ErrWrongKey) {
		t.Fatalf("OpenFile with a wrong key: %v, want ErrWrongKey", err)
	}
	if _, err := follow(gone, c.now()); err == nil || !strings.Contains(err.Error(), "holds no file") {
		t.Fatalf("Followed of a path holding nothing: %v", err)
	}
	if got, err := follow(folder, c.now()); err != nil || got.Kind != vault.KindDir {
		t.Fatalf("Followed of a folder: %+v, %v", got, err)
	}
	if f, err := follow(endMe, c.now()); err == nil || !strings.Contains(err.Error(), "ended this share") || f.Ended == 0 || f.CID.Defined() {
		t.Fatalf("Followed of an ended share: %+v, %v", f, err)
	}
	if _, err := share.Followed(ctx, v.Blocks(), r, [32]byte{0xee}, c.now()); !errors.Is(err, share.ErrNoShare) {
		t.Fatalf("Followed with an unknown secret: %v, want ErrNoShare", err)
	}
	if _, err := share.Followed(ctx, v.Blocks(), &vault.Root{}, exp.Secret, c.now()); !errors.Is(err, share.ErrNoShare) {
		t.Fatalf("Followed in a root with no shares: %v, want ErrNoShare", err)
	}
	// A share node not held: ErrNoShare, saying some could not be read.
	withMissing := &vault.Root{Shares: append([]cid.Cid{cborCID(t, "missing")}, r.Shares...)}
	if _, err := share.Followed(ctx, v.Blocks(), withMissing, [32]byte{0xee}, c.now()); !errors.Is(err, share.ErrNoShare) || !strings.Contains(err.Error(), "could not be read") {
		t.Fatalf("Followed past a missing node: %v", err)
	}
	if got, err := share.Followed(ctx, v.Blocks(), withMissing, forever.Secret, c.now()); err != nil || !got.CID.Equals(fv.CID) {
		t.Fatalf("Followed past a missing node to a good one: %v", err)
	}

	// Past the first expiry: the root written now gives nothing for it.
	c.add(time.Hour)
	if got := s.NextExpiry(); !got.Equal(start.Add(2 * time.Hour)) {
		t.Fatalf("NextExpiry = %v, want %v", got, start.Add(2*time.Hour))
	}
	r = rootOf(t, s, v, tr)
	var node cid.Cid
	for _, c := range r.Shares {
		if o, err := v.ShareOwner(ctx, c); err == nil && o.Secret == exp.Secret {
			node = c
		}
	}
	sf, err := vault.ReadShare(ctx, v.Blocks(), node, exp.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if sf.CID.Defined() || sf.Key != ([32]byte{}) || sf.Expires != exp.Expires || sf.Ended != 0 {
		t.Fatalf("an expired share's node gives %+v", sf)
	}
	if _, err := follow(exp, c.now()); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("Followed of an expired share: %v", err)
	}
	if got, err := follow(later, c.now()); err != nil || !got.CID.Equals(fv.CID) {
		t.Fatalf("Followed of a share not yet expired: %+v, %v", got, err)
	}
	c.add(2 * time.Hour)
	if got := s.NextExpiry(); !got.IsZero() {
		t.Fatalf("NextExpiry with every expiring share past = %v", got)
	}
	if got, err := follow(forever, c.now()); err != nil || !got.CID.Equals(fv.CID) {
		t.Fatalf("Followed of a share without expiry: %+v, %v", got, err)
	}
}

// TestRootSharesEmptyTree: with no tree (an empty vault) every share gives
// no file.
func TestRootSharesEmptyTree(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	v := vault.New(testAccount(t, 5), realBlocks(t))
	s := openState(t, newDatastore(), c)
	f, _ := s.Add(ctx, secretReader(1), reportPath, 0)
	cs, err := s.RootShares(ctx, v, nil)
	if err != nil || len(cs) != 1 {
		t.Fatalf("RootShares: %v, %v", cs, err)
	}
	if _, err := share.Followed(ctx, v.Blocks(), &vault.Root{Shares: cs}, f.Secret, c.now()); err == nil || !strings.Contains(err.Error(), "holds no file") {
		t.Fatalf("Followed: %v", err)
	}
}

// TestRootSharesParentIsFile: a share whose path's parent folder became
// a file gives no file (SPEC.md 17.2: "none when ... the path holds no
// file"); it must not stop the account root from being written.
func TestRootSharesParentIsFile(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	v := vault.New(testAccount(t, 5), realBlocks(t))
	tr, _ := reportTree(t, v)
	s := openState(t, newDatastore(), c)
	good, _ := s.Add(ctx, secretReader(1), reportPath, 0)
	under, _ := s.Add(ctx, secretReader(2), reportPath+"/inside", 0)
	cs, err := s.RootShares(ctx, v, tr)
	if err != nil {
		t.Fatalf("RootShares fails when a share's path runs through a file, so no account root can be written: %v", err)
	}
	r := &vault.Root{Shares: cs}
	if _, err := share.Followed(ctx, v.Blocks(), r, under.Secret, c.now()); err == nil || !strings.Contains(err.Error(), "holds no file") {
		t.Fatalf("Followed of a path under a file: %v", err)
	}
	if _, err := share.Followed(ctx, v.Blocks(), r, good.Secret, c.now()); err != nil {
		t.Fatal(err)
	}
}

// TestRootSharesAtMostMaxShares: a root lists at most MaxShares shares,
// ended ones included (MaxShares' doc, SPEC.md 17.2 "At most 4096
// shares"), since readers (Followed) and devices (Learn) take only the
// first MaxShares of a root: a share listed after them can neither be
// followed nor learnt.
func TestRootSharesAtMostMaxShares(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 4097 share nodes")
	}
	ctx := context.Background()
	c := newClock()
	v := vault.New(testAccount(t, 5), realBlocks(t))
	tr, fv := reportTree(t, v)
	s := openState(t, newDatastore(), c)
	var secrets bytes.Buffer
	for i := range share.MaxShares + 1 {
		var b [32]byte
		b[0], b[1], b[2] = byte(i), byte(i>>8), 0xaa
		secrets.Write(b[:])
	}
	for range share.MaxShares {
		if _, err := s.Add(ctx, &secrets, reportPath, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Add(ctx, bytes.NewReader(make([]byte, 32)), reportPath, 0); err == nil {
		t.Fatal("a 4097th live share was added")
	}
	if _, err := s.End(ctx, func(vault.FollowShare) bool { return true }); err != nil {
		t.Fatal(err)
	}
	// The new share's tag sorts after every ended one's, so it is the
	// 4097th node of the root.
	var maxTag [16]byte
	for _, f := range s.List() {
		if tag := vault.ShareTag(f.Secret); bytes.Compare(tag[:], maxTag[:]) > 0 {
			maxTag = tag
		}
	}
	var secret [32]byte
	for i := 0; ; i++ {
		secret = [32]byte{0xbb, byte(i), byte(i >> 8), byte(i >> 16)}
		if tag := vault.ShareTag(secret); bytes.Compare(tag[:], maxTag[:]) > 0 {
			break
		}
	}
	// Ended shares stay listed until forgotten: no room for another.
	if _, err := s.Add(ctx, bytes.NewReader(secret[:]), reportPath, 0); err == nil {
		t.Fatal("a share was added while the root lists the most it may")
	}
	c.add(91 * 24 * time.Hour)
	last, err := s.Add(ctx, bytes.NewReader(secret[:]), reportPath, 0)
	if err != nil {
		t.Fatalf("a share once the ended ones are forgotten: %v", err)
	}
	cs, err := s.RootShares(ctx, v, tr)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("the root lists %d shares; want the live one", len(cs))
	}
	got, err := share.Followed(ctx, v.Blocks(), &vault.Root{Shares: cs}, last.Secret, c.now())
	if err != nil {
		t.Fatal(err)
	}
	if !got.CID.Equals(fv.CID) {
		t.Fatalf("Followed gave %+v", got)
	}
}
