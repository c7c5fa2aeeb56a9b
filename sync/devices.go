package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/vault"
)

// The account's devices, as this device knows them: the certificates
// from the roots seen (and from links made here), the revocations, which
// are never forgotten, and when each device was last connected. They are
// kept in the store's "devices" namespace, so a restarted device lists
// them in its first root again:
//
//	/cert/<peer ID>     a device certificate
//	/revoked/<peer ID>  a device revocation
//	/seen/<peer ID>     when it was last connected (unix ns, decimal)
//
// A revoked device is no device of the account here: its certificate is
// left out of the roots and never taken again (the kept one only names
// it), its announcements are refused, and a
// head it wrote (by the snapshot's device field) is not taken in.

// roster is the Service's state about devices beyond its certificates;
// the Service's mu guards it.
type roster struct {
	revoked map[string][]byte // device peer ID -> its revocation
	seen    map[string]time.Time
	names   map[string]string // removed devices' names, from their certificates
	// removed is this device's own revocation, once learned: it then
	// neither publishes nor takes anything in.
	removed *vault.Revocation
}

// Device is one device of the account as this device knows it.
type Device struct {
	ID   peer.ID
	Name string
	// Linked is when the account certified it.
	Linked time.Time
	// LastSeen is when it was last connected to this device (now, when
	// connected); zero when never seen. This device's is now.
	LastSeen  time.Time
	Connected bool
	This      bool
	// Removed, RemovedBy and RemovedAt: its revocation, if any.
	Removed   bool
	RemovedBy peer.ID
	RemovedAt time.Time
}

// ErrRemoved says this device was removed from the account.
var ErrRemoved = errors.New("this device was removed from the account")

// ErrUnknownDevice says no device of the account has that ID.
var ErrUnknownDevice = errors.New("no device of the account has that ID (see 'peer devices')")

func (n *Service) devStore() ds.Datastore { return n.store.Namespace("devices") }

// loadDevices reads the certificates, revocations and last-seen times
// kept by earlier runs.
func (n *Service) loadDevices(ctx context.Context) error {
	res, err := n.devStore().Query(ctx, query.Query{})
	if err != nil {
		return fmt.Errorf("failed to read the account's devices: %w", err)
	}
	defer res.Close()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.roster.revoked, n.roster.seen, n.roster.names = map[string][]byte{}, map[string]time.Time{}, map[string]string{}
	me := n.node.Host().ID()
	var certs [][]byte
	for r := range res.Next() {
		if r.Error != nil {
			return fmt.Errorf("failed to read the account's devices: %w", r.Error)
		}
		kind, id, _ := strings.Cut(strings.TrimPrefix(r.Key, "/"), "/")
		switch kind {
		case "cert":
			certs = append(certs, r.Value)
		case "revoked":
			rv, err := vault.ParseRevocation(r.Value)
			if err != nil || rv.Account != n.acct.Keys().PeerID() {
				continue
			}
			n.roster.revoked[rv.Device.String()] = r.Value
			if rv.Device == me {
				n.roster.removed = rv
			}
		case "seen":
			if ns, err := strconv.ParseInt(string(r.Value), 10, 64); err == nil {
				n.roster.seen[id] = time.Unix(0, ns)
			}
		}
	}
	for _, b := range certs {
		c, err := vault.ParseDeviceCert(b)
		if err != nil || c.Account != n.acct.Keys().PeerID() {
			continue
		}
		if n.roster.revoked[c.Device.String()] != nil {
			n.roster.names[c.Device.String()] = c.Name
		} else {
			n.devices[c.Device.String()] = b
		}
	}
	return nil
}

// keep writes one record of the devices namespace; a failure is logged:
// the state in memory is right, only a restart would forget it.
func (n *Service) keep(kind, id string, b []byte) {
	if err := n.devStore().Put(n.ctx, ds.NewKey("/"+kind+"/"+id), b); err != nil {
		n.log.Warn("failed to keep a device record", "kind", kind, "device", id, "err", err)
	}
}

// learnRevocations takes in the valid revocations of this account that
// root lists; their devices are dropped for good.
func (n *Service) learnRevocations(root *vault.Root) {
	for _, b := range root.Revoked {
		n.addRevocation(b)
	}
}

// addRevocation takes in one revocation, unless known or invalid.
func (n *Service) addRevocation(b []byte) *vault.Revocation {
	rv, err := vault.ParseRevocation(b)
	if err != nil || rv.Account != n.acct.Keys().PeerID() {
		return nil
	}
	id := rv.Device.String()
	n.mu.Lock()
	if n.roster.revoked[id] != nil {
		n.mu.Unlock()
		return nil
	}
	n.roster.revoked[id] = b
	if c, err := vault.ParseDeviceCert(n.devices[id]); err == nil {
		n.roster.names[id] = c.Name
	}
	delete(n.devices, id)
	me := rv.Device == n.node.Host().ID()
	if me {
		n.roster.removed = rv
	}
	n.mu.Unlock()
	n.keep("revoked", id, b)
	if me {
		n.log.Warn("this device was removed from the account: it no longer publishes or takes in changes; if nobody meant to, the account's secret is in someone else's hands: move to a new account (see 'peer devices --help')", "by", rv.By, "at", time.Unix(0, rv.Time))
	} else {
		n.log.Info("a device was removed from the account", "device", rv.Device, "by", rv.By)
		n.schedulePublish()
	}
	return rv
}

// revokedLocked reports whether device (a peer ID's text) is revoked;
// n.mu is held.
func (n *Service) revokedLocked(device string) bool { return n.roster.revoked[device] != nil }

// isRevoked reports whether p is a revoked device.
func (n *Service) isRevoked(p peer.ID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.revokedLocked(p.String())
}

// removedErr says why this device may not publish or take in changes,
// nil when it may.
func (n *Service) removedErr() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if rv := n.roster.removed; rv != nil {
		return fmt.Errorf("%w by device %s at %s: it no longer publishes or takes in changes (link it again with 'peer init --link' in a new repo)", ErrRemoved, rv.By, time.Unix(0, rv.Time).Format(time.DateTime))
	}
	return nil
}

// checkHead refuses a head snapshot written by a revoked device. The
// snapshot's device field is sealed under the account's index key: it
// tells outsiders nothing, but every device of the account (a removed one
// too) could write any value there. So this refuses what a removed
// device writes as itself, not what it forges (SPEC.md, "What a removed
// device can still do").
func (n *Service) checkHead(head *vault.Snapshot) error {
	if err := n.removedErr(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.revokedLocked(head.Device) {
		return fmt.Errorf("refused head %s: it was written by device %s, which was removed from the account", head.CID, head.Device)
	}
	return nil
}

// newCertLocked keeps a certificate not seen before; n.mu is held.
func (n *Service) newCertLocked(id string, b []byte) {
	if _, ok := n.devices[id]; !ok {
		n.keep("cert", id, b)
	}
}

// AddDevice takes in a certificate of this account (of a device just
// linked) and publishes a root that lists it.
func (n *Service) AddDevice(ctx context.Context, cert []byte) error {
	c, err := vault.ParseDeviceCert(cert)
	if err != nil {
		return err
	}
	if c.Account != n.acct.Keys().PeerID() {
		return errors.New("failed to add the device: its certificate is another account's")
	}
	id := c.Device.String()
	n.mu.Lock()
	if n.revokedLocked(id) {
		n.mu.Unlock()
		return fmt.Errorf("failed to add device %s: it was removed from the account; a removed device cannot come back (link it again with a new repo: it gets a new ID)", id)
	}
	_, known := n.devices[id]
	n.devices[id] = cert
	n.mu.Unlock()
	if !known {
		n.keep("cert", id, cert)
	}
	n.schedulePublish()
	return nil
}

// RemoveDevice revokes a device of the account: the revocation, signed by
// the account and by this device, goes into every root from now on, and
// every device that learns it refuses the removed one.
func (n *Service) RemoveDevice(ctx context.Context, id peer.ID) (*vault.Revocation, error) {
	me := n.node.Host().ID()
	if id == me {
		return nil, errors.New("failed to remove the device: it is this one; remove it from another device of the account")
	}
	if err := n.removedErr(); err != nil {
		return nil, err
	}
	n.mu.Lock()
	_, known := n.devices[id.String()]
	gone := n.revokedLocked(id.String())
	n.mu.Unlock()
	if gone {
		n.mu.Lock()
		r := n.keys.parsed
		rv, _ := vault.ParseRevocation(n.roster.revoked[id.String()])
		n.mu.Unlock()
		if rv != nil && (r == nil || r.Names(id)) {
			// Removed, but the keys were not rotated (that failed, or
			// it was removed before rotations were made): do it now.
			if _, err := n.rotate(ctx); err != nil {
				return nil, err
			}
			return rv, nil
		}
		return nil, fmt.Errorf("failed to remove device %s: it was removed already", id)
	}
	if !known {
		return nil, fmt.Errorf("failed to remove device %s: %w", id, ErrUnknownDevice)
	}
	key := n.node.Host().Peerstore().PrivKey(me)
	if key == nil {
		return nil, errors.New("failed to remove the device: this device's key is not at hand")
	}
	rv, err := n.acct.Keys().RevokeDevice(id, key, time.Now().UnixNano())
	if err != nil {
		return nil, err
	}
	b, err := rv.Marshal()
	if err != nil {
		return nil, err
	}
	if n.addRevocation(b) == nil {
		return nil, fmt.Errorf("failed to remove device %s: the revocation did not verify", id)
	}
	n.node.Host().Network().ClosePeer(id)
	// What is written from now on is sealed under keys the removed
	// device was not given.
	if _, err := n.rotate(ctx); err != nil {
		return rv, fmt.Errorf("removed device %s, but %w: remove it again to retry", id, err)
	}
	return rv, nil
}

// Devices lists the account's devices, this one first, then by name;
// removed ones come last.
func (n *Service) Devices() []Device {
	me := n.node.Host().ID()
	now := time.Now()
	n.mu.Lock()
	var out []Device
	for id, b := range n.devices {
		c, err := vault.ParseDeviceCert(b)
		if err != nil {
			continue
		}
		d := Device{ID: c.Device, Name: c.Name, Linked: time.Unix(0, c.Created), LastSeen: n.roster.seen[id], This: c.Device == me}
		out = append(out, d)
	}
	for _, b := range n.roster.revoked {
		rv, err := vault.ParseRevocation(b)
		if err != nil {
			continue
		}
		out = append(out, Device{ID: rv.Device, Name: n.roster.names[rv.Device.String()], LastSeen: n.roster.seen[rv.Device.String()], This: rv.Device == me,
			Removed: true, RemovedBy: rv.By, RemovedAt: time.Unix(0, rv.Time)})
	}
	n.mu.Unlock()
	for i := range out {
		d := &out[i]
		if d.This {
			d.LastSeen, d.Connected = now, true
		} else if n.node.Host().Network().Connectedness(d.ID) == network.Connected {
			d.LastSeen, d.Connected = now, true
		}
	}
	slices.SortFunc(out, func(a, b Device) int {
		switch {
		case a.Removed != b.Removed:
			if a.Removed {
				return 1
			}
			return -1
		case a.This != b.This:
			if a.This {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return out
}

// watchDevices notes when devices of the account connect and disconnect.
func (n *Service) watchDevices(ctx context.Context) error {
	sub, err := n.node.Host().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return err
	}
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-sub.Out():
				e, ok := ev.(event.EvtPeerConnectednessChanged)
				if !ok {
					continue
				}
				id := e.Peer.String()
				n.mu.Lock()
				_, dev := n.devices[id]
				known := dev || n.revokedLocked(id)
				now := time.Now()
				if known {
					n.roster.seen[id] = now
				}
				n.mu.Unlock()
				if known {
					n.keep("seen", id, []byte(strconv.FormatInt(now.UnixNano(), 10)))
				}
			}
		}
	}()
	return nil
}

// Removed says, once this device learned that it was removed from the
// account, by whom and when; nil before.
func (n *Service) Removed() error { return n.removedErr() }
