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
	// Time is when it was last changed (unix nanoseconds; 0 in contacts
	// kept before they were carried to the other devices: Added's), and
	// Removed marks an entry kept only so that the other devices learn
	// of the removal.
	Time    int64 `cbor:"time,omitempty" json:"-"`
	Removed bool  `cbor:"removed,omitempty" json:"-"`
}

func (k Contact) entry() vault.ContactEntry {
	t := k.Time
	if t == 0 {
		t = k.Added.UnixNano()
	}
	e := vault.ContactEntry{Account: k.Account, Name: k.Name, Box: k.Box, Added: k.Added.UnixNano(), Time: t}
	if k.Removed {
		e.Removed = t
	}
	return e
}

func contactOf(e vault.ContactEntry) Contact {
	return Contact{Account: e.Account, Name: e.Name, Box: e.Box, Added: time.Unix(0, e.Added).UTC(), Time: e.Time, Removed: e.Removed != 0}
}

// Contacts is the account's address book as this device knows it, kept
// in its datastore. The account's devices carry it to each other in the
// account root (SPEC.md section 17.7; State.RootShares and Learn).
type Contacts struct {
	ds  ds.Datastore
	now func() time.Time
	mu  sync.Mutex
	cs  []Contact // removed ones too, until forgotten
}

// OpenContacts loads the contacts kept in d.
func OpenContacts(ctx context.Context, d ds.Datastore) (*Contacts, error) {
	c := &Contacts{ds: d, now: time.Now}
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
	cs = slices.DeleteFunc(cs, c.forgotten)
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
	now := c.now()
	cs := slices.Clone(c.cs)
	for _, k := range cs {
		if !k.Removed && k.Name != "" && k.Name == name && k.Account != account {
			return Contact{}, fmt.Errorf("the name %q is taken by %s", name, k.Account)
		}
	}
	for i, k := range cs {
		if k.Account == account {
			if k.Removed {
				k = Contact{Account: account, Added: now.UTC(), Box: k.Box}
			}
			k.Name, k.Time, k.Removed = name, now.UnixNano(), false
			if len(box) == 32 {
				k.Box = box
			}
			cs[i] = k
			return k, c.save(ctx, cs)
		}
	}
	if c.count() >= vault.MaxContacts {
		return Contact{}, fmt.Errorf("the account has %d contacts, the most it carries: remove some with 'peer contacts rm'", vault.MaxContacts)
	}
	k := Contact{Account: account, Name: name, Added: now.UTC(), Time: now.UnixNano()}
	if len(box) == 32 {
		k.Box = box
	}
	return k, c.save(ctx, append(cs, k))
}

// count is the entries carried, removed ones too; the caller holds mu.
func (c *Contacts) count() int { return len(c.cs) }

// live returns the contacts not removed; the caller holds mu.
func (c *Contacts) live() []Contact {
	out := make([]Contact, 0, len(c.cs))
	for _, k := range c.cs {
		if !k.Removed {
			out = append(out, k)
		}
	}
	return out
}

// Entries is the address book as the account root carries it: sorted by
// account, removals of the last 90 days too.
func (c *Contacts) Entries() []vault.ContactEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]vault.ContactEntry, 0, len(c.cs))
	for _, k := range c.cs {
		if !c.forgotten(k) {
			out = append(out, k.entry())
		}
	}
	slices.SortFunc(out, func(a, b vault.ContactEntry) int { return strings.Compare(a.Account, b.Account) })
	return out
}

// forgotten reports whether k is a removal so old it is no longer
// carried (nor taken back from an old root); the caller holds mu.
func (c *Contacts) forgotten(k Contact) bool {
	return k.Removed && c.now().Sub(time.Unix(0, k.entry().Time)) > keepEnded
}

// Join takes in the address book another device carried (es, from an
// account root): per account the later change wins (vault.JoinContact).
// It reports whether es lacks what this device knows.
func (c *Contacts) Join(ctx context.Context, es []vault.ContactEntry) (lacks bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := slices.Clone(c.cs)
	at := map[string]int{}
	for i, k := range cs {
		at[k.Account] = i
	}
	changed := false
	seen := map[string]vault.ContactEntry{}
	for _, e := range es {
		seen[e.Account] = e
		i, ok := at[e.Account]
		if !ok {
			if k := contactOf(e); !c.forgotten(k) && len(cs) < vault.MaxContacts {
				cs = append(cs, k)
				at[e.Account] = len(cs) - 1
				changed = true
			}
			continue
		}
		if j := vault.JoinContact(cs[i].entry(), e); !contactEqual(j, cs[i].entry()) {
			cs[i] = contactOf(j)
			changed = true
		}
	}
	if changed {
		if err := c.save(ctx, cs); err != nil {
			return false, err
		}
	}
	for _, k := range c.cs {
		if e, ok := seen[k.Account]; (!ok || !contactEqual(e, k.entry())) && !c.forgotten(k) {
			lacks = true
		}
	}
	return lacks, nil
}

func contactEqual(a, b vault.ContactEntry) bool {
	return a.Account == b.Account && a.Name == b.Name && string(a.Box) == string(b.Box) && a.Added == b.Added && a.Time == b.Time && a.Removed == b.Removed
}

// Remove removes the contact that account names (an ID or a name).
func (c *Contacts) Remove(ctx context.Context, account string) (Contact, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range c.cs {
		if !k.Removed && (k.Account == account || (k.Name != "" && k.Name == account)) {
			cs := slices.Clone(c.cs)
			cs[i].Removed, cs[i].Time = true, c.now().UnixNano()
			return k, c.save(ctx, cs)
		}
	}
	return Contact{}, fmt.Errorf("no contact %q ('peer contacts' lists them)", account)
}

// List returns the contacts in the order they were added.
func (c *Contacts) List() []Contact {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.live()
	slices.SortStableFunc(out, func(a, b Contact) int { return a.Added.Compare(b.Added) })
	return out
}

// Is reports whether account is a contact.
func (c *Contacts) Is(account string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.cs, func(k Contact) bool { return k.Account == account && !k.Removed })
}

// Lookup turns a contact's name or an account ID into an account ID.
func (c *Contacts) Lookup(s string) (string, error) {
	if _, err := vault.ParseAccountID(s); err == nil {
		return s, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var found []string
	for _, k := range c.live() {
		if k.Name == s {
			found = append(found, k.Account)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%q is neither an account ID nor a contact's name ('peer contacts' lists them)", s)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("two of the account's devices named different contacts %q (%s): give an account ID, or rename one with 'peer contacts add ACCOUNT --name NEW'", s, strings.Join(found, ", "))
}

// NameOf is the contact name of account, or "".
func (c *Contacts) NameOf(account string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range c.live() {
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
		if k.Account == account && len(k.Box) == 32 { // a removed contact's key is still its key
			copy(out[:], k.Box)
			return out, true
		}
	}
	return out, false
}
