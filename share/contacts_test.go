package share_test

import (
	"context"
	"testing"

	"github.com/peer-cloud/peer/share"
)

// Two devices of an account carry their contacts to each other in the
// roots they write: additions, renames and removals made on either reach
// the other, and both end with the same.
func TestContactsTravel(t *testing.T) {
	ctx := context.Background()
	td := newTwoDevices(t)
	c1, err := share.OpenContacts(ctx, newDatastore())
	if err != nil {
		t.Fatal(err)
	}
	c2, err := share.OpenContacts(ctx, newDatastore())
	if err != nil {
		t.Fatal(err)
	}
	s1, err := share.Open(ctx, newDatastore(), share.WithClock(td.c.now), share.WithContacts(c1))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := share.Open(ctx, newDatastore(), share.WithClock(td.c.now), share.WithContacts(c2))
	if err != nil {
		t.Fatal(err)
	}
	bob, carol := testAccount(t, 20).ID(), testAccount(t, 21).ID()
	if _, err := c1.Add(ctx, bob, "bob", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Add(ctx, carol, "carol", make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	if !learn(t, s2, td.v2, rootOf(t, s1, td.v1, td.tr)) {
		t.Fatal("device 2 learnt a root without carol and says it lacks nothing")
	}
	if id, err := c2.Lookup("bob"); err != nil || id != bob {
		t.Fatalf("device 2 looks bob up: %q, %v", id, err)
	}
	if learn(t, s1, td.v1, rootOf(t, s2, td.v2, td.tr)) {
		t.Fatal("device 1 learnt a root with all it knows and says it lacks some")
	}
	if id, err := c1.Lookup("carol"); err != nil || id != carol {
		t.Fatalf("device 1 looks carol up: %q, %v", id, err)
	}
	if _, ok := c1.BoxOf(carol); !ok {
		t.Fatal("carol's box key did not travel")
	}
	// A removal on device 1 and a rename on device 2 afterwards: both end
	// with the rename (the later change).
	if _, err := c1.Remove(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	learn(t, s2, td.v2, rootOf(t, s1, td.v1, td.tr))
	if c2.Is(bob) {
		t.Fatal("device 2 keeps a contact device 1 removed")
	}
	td.c.add(1)
	if _, err := c2.Add(ctx, bob, "robert", nil); err != nil {
		t.Fatal(err)
	}
	learn(t, s1, td.v1, rootOf(t, s2, td.v2, td.tr))
	if c1.NameOf(bob) != "robert" || len(c1.List()) != 2 || len(c2.List()) != 2 {
		t.Fatalf("after the rename: device 1 calls bob %q, lists %d; device 2 lists %d", c1.NameOf(bob), len(c1.List()), len(c2.List()))
	}
}
