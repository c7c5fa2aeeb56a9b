package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/share"
	peersync "github.com/peer-cloud/peer/sync"
	"github.com/peer-cloud/peer/vault"
)

// startInbox subscribes to the account's inbox.
func (d *Daemon) startInbox(ctx context.Context) error {
	var err error
	d.inbox, err = share.StartInbox(ctx, share.InboxConfig{
		Host:    d.node.Host(),
		PubSub:  d.node.PubSub(),
		Vault:   d.acct.Vault(),
		Key:     d.acct.Keys().SigningKey(),
		DS:      d.store.Namespace("inbox"),
		State:   d.shares,
		Contact: d.contacts.Is,
		Log:     d.log.With("part", "inbox"),
	})
	return err
}

// boxOf finds the box key of account: the one its contact keeps, or from
// its newest root on the LAN.
func (d *Daemon) boxOf(ctx context.Context, account string) ([32]byte, error) {
	if box, ok := d.contacts.BoxOf(account); ok {
		return box, nil
	}
	return d.findBox(ctx, account)
}

// findBox reads the box key of account from its newest root on the LAN.
func (d *Daemon) findBox(ctx context.Context, account string) ([32]byte, error) {
	id, err := vault.ParseAccountID(account)
	if err != nil {
		return [32]byte{}, err
	}
	rec, err := d.names.Resolve(ctx, id, 10*time.Second)
	if err != nil {
		return [32]byte{}, fmt.Errorf("failed to find account %s, to seal the share for it (is a device of it, or a donor that serves it, on this LAN?): %w", account, err)
	}
	c, err := peersync.RootCID(rec)
	if err != nil {
		return [32]byte{}, err
	}
	root, err := d.sync.Root(ctx, c)
	if err != nil {
		return [32]byte{}, fmt.Errorf("failed to read the account root of %s: %w", account, err)
	}
	var devices []peer.ID
	for _, b := range root.Devices {
		if cert, err := vault.ParseDeviceCert(b); err == nil && cert.Account == id {
			devices = append(devices, cert.Device)
		}
	}
	d.inbox.SetDevices(account, devices)
	return root.Box, nil
}

// recipients are accounts a share is sealed for: their IDs and box keys.
type recipients struct {
	ids  []string
	pubs [][32]byte
}

// recipientsOf looks up the accounts with names (IDs or contact names)
// and their box keys, from contacts or from their roots on the LAN.
func (d *Daemon) recipientsOf(ctx context.Context, with []string) (recipients, error) {
	if len(with) > vault.MaxRecipients {
		return recipients{}, badRequest(fmt.Errorf("at most %d accounts at once", vault.MaxRecipients))
	}
	rs := recipients{ids: make([]string, 0, len(with)), pubs: make([][32]byte, 0, len(with))}
	rctx, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	for _, w := range with {
		id, err := d.contacts.Lookup(w)
		if err != nil {
			return recipients{}, badRequest(err)
		}
		if id == d.acct.Keys().ID() {
			return recipients{}, badRequest(errors.New("this is your own account: its devices read the file already"))
		}
		box, err := d.boxOf(rctx, id)
		if err != nil {
			return recipients{}, notFound(err)
		}
		rs.ids = append(rs.ids, id)
		rs.pubs = append(rs.pubs, box)
	}
	return rs, nil
}

// shareWith seals the file entry e of path p for the accounts with, keeps
// the envelope for the account root and sends it to their inboxes.
func (d *Daemon) shareWith(ctx context.Context, p string, e vault.Entry, with []string) (api.Share, error) {
	rs, err := d.recipientsOf(ctx, with)
	if err != nil {
		return api.Share{}, err
	}
	return d.sealFor(ctx, p, e, rs)
}

// sealFor seals the file entry e of path p for rs (an envelope the
// account root lists) and sends it to their inboxes.
func (d *Daemon) sealFor(ctx context.Context, p string, e vault.Entry, rs recipients) (api.Share, error) {
	now := time.Now()
	blk, err := d.acct.Vault().WriteEnvelope(ctx, nil, e, rs.pubs, rs.ids, now.UnixNano())
	if err != nil {
		return api.Share{}, err
	}
	if err := d.shares.AddSent(ctx, vault.Sent{CID: blk.Cid(), Recipients: rs.ids, Made: now.UnixNano()}); err != nil {
		return api.Share{}, err
	}
	d.acct.SchedulePublish()
	for _, id := range rs.ids {
		// A recipient away now gets it when a device of it joins its
		// inbox topic again (or from this account's root).
		if err := d.inbox.Send(ctx, id, blk); err != nil {
			d.log.Debug("failed to send a share", "to", id, "err", err)
		}
	}
	return api.Share{Path: p, Version: e.CID.String(), Made: now.UTC(), With: rs.ids}, nil
}

func (d *Daemon) handleShared(w http.ResponseWriter, r *http.Request) error {
	list, err := d.inbox.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]api.Received, len(list))
	for i, e := range list {
		out[i] = api.Received{From: e.From, FromName: d.contacts.NameOf(e.From), Contact: e.Contact, Name: e.Name, Size: e.Size,
			Mtime: time.Unix(0, e.Mtime).UTC(), Shared: time.Unix(0, e.Time).UTC(), Received: e.At.UTC(), Link: e.Link().String(), Envelope: e.CID.String()}
	}
	return writeJSON(w, http.StatusOK, out)
}

func contactJSON(c share.Contact) api.Contact {
	return api.Contact{Account: c.Account, Name: c.Name, Added: c.Added}
}

func (d *Daemon) handleContacts(w http.ResponseWriter, r *http.Request) error {
	list := d.contacts.List()
	out := make([]api.Contact, len(list))
	for i, c := range list {
		out[i] = contactJSON(c)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (d *Daemon) handleContactAdd(w http.ResponseWriter, r *http.Request) error {
	var req struct{ Account, Name string }
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if _, err := vault.ParseAccountID(req.Account); err != nil {
		return badRequest(fmt.Errorf("%q is not an account ID ('peer account' shows one): %w", req.Account, err))
	}
	// Its box key, so that shares to it can be sealed while it is away.
	ctx, cancel := context.WithTimeout(r.Context(), linkTimeout)
	defer cancel()
	var box []byte
	b, err := d.findBox(ctx, req.Account)
	if err == nil {
		box = b[:]
	}
	c, err := d.contacts.Add(r.Context(), req.Account, req.Name, box)
	if err != nil {
		return badRequest(err)
	}
	d.acct.SchedulePublish() // the account's other devices learn it from the root
	out := contactJSON(c)
	out.Reachable = box != nil
	return writeJSON(w, http.StatusOK, out)
}

func (d *Daemon) handleContactRm(w http.ResponseWriter, r *http.Request) error {
	var req struct{ Account string }
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	c, err := d.contacts.Remove(r.Context(), req.Account)
	if err != nil {
		return notFound(err)
	}
	d.acct.SchedulePublish()
	return writeJSON(w, http.StatusOK, contactJSON(c))
}
