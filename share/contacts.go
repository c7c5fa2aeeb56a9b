package share

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
	ds "github.com/ipfs/go-datastore"

	"github.com/peer-cloud/peer/vault"
)

var contactsKey = ds.NewKey("/contacts")

// Contact is an account this device knows by a name. Shares from
// contacts are listed apart from strangers' and not bounded as theirs.
type Contact struct {
	Account string    `cbor:"account" json:"account"`
	Name    string    `cbor:"name" json:"name,omitempty"`
	Added   time.Time `cbor:"added" json:"added"`
	// Box is the account's box public key when it was found on adding
	// (empty if not): shares to it are sealed even while it is away.
	Box []byte `cbor:"box,omitempty" json:"-"`
}

// Contacts is this device's address book, kept in its datastore.
type Contacts struct {
	ds ds.Datastore
	mu sync.Mutex
	cs []Contact
}

// OpenContacts loads the contacts kept in d.
func OpenContacts(ctx context.Context, d ds.Datastore) (*Contacts, error) {
	c := &Contacts{ds: d}
	b, err := d.Get(ctx, contactsKey)
	if errors.Is(err, ds.ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the contacts: %w", err)
	}
	if err := cbor.Unmarshal(b, &c.cs); err != nil {
		return nil, fmt.Errorf("failed to read the contacts (the datastore entry is damaged): %w", err)
	}
	return c, nil
}

func (c *Contacts) save(ctx context.Context, cs []Contact) error {
	b, err := cbor.Marshal(cs)
	if err != nil {
		return err
	}
	if err := c.ds.Put(ctx, contactsKey, b); err != nil {
		return fmt.Errorf("failed to save the contacts: %w", err)
	}
	c.cs = cs
	return nil
}

// Add adds account (or renames it) as name; box is its box public key
// when known (nil: not known, or keep the one known).
func (c *Contacts) Add(ctx context.Context, account, name string, box []byte) (Contact, error) {
	if _, err := vault.ParseAccountID(account); err != nil {
		return Contact{}, fmt.Errorf("%q is not an account ID ('peer account' shows one): %w", account, err)
	}
	name = strings.TrimSpace(name)
	if strings.HasPrefix(name, "k51") || len(name) > 100 || strings.ContainsAny(name, "\x00\n") {
		return Contact{}, errors.New("a contact's name is at most 100 characters on one line and does not look like an account ID")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := slices.Clone(c.cs)
	for i, k := range cs {
		if k.Name != "" && k.Name == name && k.Account != account {
			return Contact{}, fmt.Errorf("the name %q is taken by %s", name, k.Account)
		}
		if k.Account == account {
			cs[i].Name = name
			if len(box) == 32 {
				cs[i].Box = box
			}
			return cs[i], c.save(ctx, cs)
		}
	}
	k := Contact{Account: account, Name: name, Added: time.Now().UTC()}
	if len(box) == 32 {
		k.Box = box
	}
	return k, c.save(ctx, append(cs, k))
}

// Remove removes the contact that account names (an ID or a name).
func (c *Contacts) Remove(ctx context.Context, account string) (Contact, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range c.cs {
		if k.Account == account || (k.Name != "" && k.Name == account) {
			return k, c.save(ctx, slices.Delete(slices.Clone(c.cs), i, i+1))
		}
	}
	return Contact{}, fmt.Errorf("no contact %q ('peer contacts' lists them)", account)
}

// List returns the contacts in the order they were added.
func (c *Contacts) List() []Contact {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.cs)
}

// Is reports whether account is a contact.
func (c *Contacts) Is(account string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.cs, func(k Contact) bool { return k.Account == account })
}

// Lookup turns a contact's name or an account ID into an account ID.
func (c *Contacts) Lookup(s string) (string, error) {
	if _, err := vault.ParseAccountID(s); err == nil {
		return s, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.cs {
		if k.Name == s {
			return k.Account, nil
		}
	}
	return "", fmt.Errorf("%q is neither an account ID nor a contact's name ('peer contacts' lists them)", s)
}

// NameOf is the contact name of account, or "".
func (c *Contacts) NameOf(account string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.cs {
		if k.Account == account {
			return k.Name
		}
	}
	return ""
}

// BoxOf is the box key kept for account, if any.
func (c *Contacts) BoxOf(account string) ([32]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [32]byte
	for _, k := range c.cs {
		if k.Account == account && len(k.Box) == 32 {
			copy(out[:], k.Box)
			return out, true
		}
	}
	return out, false
}
