package vault

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	blocks "github.com/ipfs/go-block-format"
)

func contactIDs(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		out = append(out, testAccount(t, byte(100+i)).ID())
	}
	slices.Sort(out)
	return out
}

func TestContactsRoundTrip(t *testing.T) {
	ctx := context.Background()
	v := New(testAccount(t, 1), badgerBlocks(t))
	ids := contactIDs(t, 2)
	es := []ContactEntry{
		{Account: ids[0], Name: "bob", Box: bytes.Repeat([]byte{2}, 32), Added: 1, Time: 1},
		{Account: ids[1], Name: "", Added: 2, Time: 5, Removed: 5},
	}
	c, err := v.WriteContacts(ctx, es)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := v.WriteContacts(ctx, es); err != nil || again != c {
		t.Fatalf("the same contacts wrote another node: %v", err)
	}
	got, err := v.ReadContacts(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "bob" || !bytes.Equal(got[0].Box, es[0].Box) || got[1].Removed != 5 || got[1].Time != 5 {
		t.Fatalf("ReadContacts = %+v", got)
	}
	// Another account cannot open them, and a stranger sees no names.
	data, _ := v.Blocks().Get(ctx, c)
	if bytes.Contains(data, []byte("bob")) || bytes.Contains(data, []byte(ids[0])) {
		t.Fatal("the contacts node shows a name or an account in clear")
	}
	var de *DamagedError
	if _, err := New(testAccount(t, 2), v.Blocks()).ReadContacts(ctx, c); !errors.As(err, &de) {
		t.Fatalf("another account reads the contacts: %v", err)
	}
	// Refused when written: unsorted, twice, a bad key or name.
	for _, bad := range [][]ContactEntry{
		{es[1], es[0]},
		{es[0], es[0]},
		{{Account: ids[0], Box: []byte{1}}},
		{{Account: ids[0], Name: "two\nlines"}},
		{{Account: "k51nope"}},
	} {
		if _, err := v.WriteContacts(ctx, bad); err == nil {
			t.Fatalf("WriteContacts(%+v) succeeded", bad)
		}
	}
}

// JoinContact gives the same whatever order two entries come in, and a
// later change wins.
func TestJoinContact(t *testing.T) {
	id := contactIDs(t, 1)[0]
	r := rand.New(rand.NewPCG(1, 2))
	entry := func() ContactEntry {
		e := ContactEntry{Account: id, Name: []string{"", "bob", "rob"}[r.IntN(3)], Added: int64(r.IntN(3)), Time: int64(r.IntN(3)), Removed: int64(r.IntN(3))}
		if r.IntN(2) == 0 {
			e.Box = bytes.Repeat([]byte{byte(r.IntN(3))}, 32)
		}
		return e
	}
	for range 2000 {
		a, b := entry(), entry()
		ab, ba := JoinContact(a, b), JoinContact(b, a)
		if ab.Name != ba.Name || !bytes.Equal(ab.Box, ba.Box) || ab.Time != ba.Time || ab.Removed != ba.Removed || ab.Added != ba.Added {
			t.Fatalf("JoinContact(%+v, %+v) = %+v, other order %+v", a, b, ab, ba)
		}
		if j := JoinContact(ab, a); j.Name != ab.Name || j.Time != ab.Time || j.Removed != ab.Removed {
			t.Fatalf("joining again changes %+v to %+v", ab, j)
		}
		if a.Time > b.Time && (ab.Name != a.Name || ab.Removed != a.Removed) {
			t.Fatalf("the earlier change won: %+v, %+v -> %+v", a, b, ab)
		}
	}
}

// FuzzReadContacts feeds any bytes to ReadContacts, both as the node and
// as the sealed address book inside one: errors are fine, panics are
// not, and what it reads is written again to the same node.
func FuzzReadContacts(f *testing.F) {
	ctx := context.Background()
	acct := testAccount(f, 1)
	ids := contactIDs(f, 2)
	plain, _ := marshal([]ContactEntry{{Account: ids[0], Name: "bob", Added: 1, Time: 1}, {Account: ids[1], Removed: 3, Time: 3}})
	f.Add(plain, false)
	f.Add([]byte{0x80}, false)
	node, _ := marshal(contactsNode{Type: "contacts", V: 1, Owner: []byte("x")})
	f.Add(node, true)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		mem := newMem()
		v := New(acct, mem)
		if !raw {
			owner, err := sealBody(&acct.index, []byte(adContactsOwner+"\x00"), data)
			if err != nil {
				t.Fatal(err)
			}
			if data, err = marshal(contactsNode{Type: "contacts", V: 1, Owner: owner}); err != nil {
				t.Fatal(err)
			}
		}
		blk, err := newBlock(cborPrefix, data)
		if err != nil {
			t.Fatal(err)
		}
		mem.Put(ctx, []blocks.Block{blk})
		es, err := v.ReadContacts(ctx, blk.Cid())
		if err != nil {
			return
		}
		again, err := v.WriteContacts(ctx, es)
		if err != nil {
			t.Fatalf("ReadContacts took %+v, which WriteContacts refuses: %v", es, err)
		}
		if again != blk.Cid() {
			t.Fatalf("ReadContacts took a node that is not the one WriteContacts writes for it")
		}
	})
}
