package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"
)

const adContactsOwner = "peer/v1 contacts owner"

// MaxContacts bounds the address book an account root carries.
const MaxContacts = 4096

// ContactEntry is one account of the account's address book, as its
// devices carry it to each other (SPEC.md section 17.7): its name here,
// its box key when known, when it was added and last changed, and when
// it was removed (unix nanoseconds; 0: not). A removed entry stays, so
// that the other devices learn the removal.
type ContactEntry struct {
	Account string `cbor:"account"`
	Name    string `cbor:"name"`
	Box     []byte `cbor:"box"`
	Added   int64  `cbor:"added"`
	Time    int64  `cbor:"time"`
	Removed int64  `cbor:"removed"`
}

type contactsNode struct {
	Type  string `cbor:"type"`
	V     int    `cbor:"v"`
	Owner []byte `cbor:"owner"`
}

// WriteContacts stores the node carrying the address book es (sorted by
// account, at most MaxContacts), sealed under the index key, and returns
// its CID. Sealing is deterministic: devices that know the same entries
// write the same node.
func (v *Vault) WriteContacts(ctx context.Context, es []ContactEntry) (cid.Cid, error) {
	if err := checkContacts(es); err != nil {
		return cid.Undef, err
	}
	plain, err := marshal(es)
	if err != nil {
		return cid.Undef, err
	}
	owner, err := sealBody(&v.acct.cur().index, []byte(adContactsOwner+"\x00"), plain)
	if err != nil {
		return cid.Undef, err
	}
	return v.storeNode(ctx, contactsNode{Type: "contacts", V: 1, Owner: owner}, "the contacts")
}

// ReadContacts opens the address book node c this account wrote.
func (v *Vault) ReadContacts(ctx context.Context, c cid.Cid) ([]ContactEntry, error) {
	var n contactsNode
	if err := decodeNode(ctx, v.blocks, c, "contacts", "contacts", &n); err != nil {
		return nil, err
	}
	damaged := func(err error) error { return &DamagedError{CID: c, What: "contacts", Err: err} }
	if n.V != 1 {
		return nil, damaged(fmt.Errorf("version %d", n.V))
	}
	plain, err := openBodyAny(v.acct.indexKeys(), []byte(adContactsOwner+"\x00"), n.Owner)
	if err != nil {
		return nil, damaged(err)
	}
	var es []ContactEntry
	if err := unmarshal(plain, &es); err != nil {
		return nil, damaged(err)
	}
	if err := checkContacts(es); err != nil {
		return nil, damaged(err)
	}
	return es, nil
}

func checkContacts(es []ContactEntry) error {
	if len(es) > MaxContacts {
		return fmt.Errorf("%d contacts, more than %d", len(es), MaxContacts)
	}
	if !slices.IsSortedFunc(es, func(a, b ContactEntry) int { return strings.Compare(a.Account, b.Account) }) {
		return errors.New("contacts not sorted by account")
	}
	for i, e := range es {
		if _, err := ParseAccountID(e.Account); err != nil {
			return fmt.Errorf("contact %d: %w", i, err)
		}
		if i > 0 && es[i-1].Account == e.Account {
			return fmt.Errorf("contact %s twice", e.Account)
		}
		if len(e.Box) != 0 && len(e.Box) != 32 {
			return fmt.Errorf("contact %s: a box key of %d bytes", e.Account, len(e.Box))
		}
		if len(e.Name) > 100 || strings.ContainsAny(e.Name, "\x00\n") {
			return fmt.Errorf("contact %s: a bad name", e.Account)
		}
	}
	return nil
}

// JoinContact picks, of two devices' entries for one account, the one
// that wins: the later change, then the later removal, then the greater name; the
// box key known to either is kept, and the earliest time it was added.
// Every device picks the same, whatever the order.
func JoinContact(a, b ContactEntry) ContactEntry {
	w, l := a, b
	switch {
	case b.Time > a.Time,
		b.Time == a.Time && b.Removed > a.Removed,
		b.Time == a.Time && b.Removed == a.Removed && b.Name > a.Name,
		b.Time == a.Time && b.Removed == a.Removed && b.Name == a.Name && bytes.Compare(b.Box, a.Box) > 0:
		w, l = b, a
	}
	if len(w.Box) == 0 {
		w.Box = l.Box
	}
	if a.Added != 0 && b.Added != 0 {
		w.Added = min(a.Added, b.Added)
	} else {
		w.Added = max(a.Added, b.Added)
	}
	return w
}
