package sync

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"

	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/vault"
)

// The account's key epochs (SPEC.md, "Key epochs"). Removing a device
// rotates the keys: a new epoch whose secret is wrapped for the devices
// that remain, in a keys record every root lists. A device takes in a
// record of a device of the account that is newer than its own, and
// rotates again when the record it holds names a removed device or
// leaves out an epoch it knows (two rotations at once), so every device
// ends with the same newest epoch and all the older ones.

// keysKey is where the record this device lists in its roots is kept, in
// the devices namespace.
var keysKey = ds.NewKey("/keys/record")

// keyState is the Service's state about key epochs; n.mu guards it.
type keyState struct {
	rec    []byte            // the record this device lists in its roots
	parsed *vault.KeysRecord // rec, parsed
	// missing says why this device cannot open the newest epoch an
	// account root hands out; nil when it can.
	missing error
}

// loadKeys reads the record kept by an earlier run.
func (n *Service) loadKeys(ctx context.Context) {
	b, err := n.devStore().Get(ctx, keysKey)
	if err != nil {
		return
	}
	r, err := vault.ParseKeysRecord(b)
	if err != nil || !n.acct.Keys().HasEpoch(r.N, r.ID) {
		return
	}
	n.mu.Lock()
	n.keys.rec, n.keys.parsed = b, r
	n.mu.Unlock()
}

// keysRecord is the record to list in the next root.
func (n *Service) keysRecord() []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.keys.rec
}

// newer reports whether r should replace cur: a later epoch, or the same
// number with a lower id (two made at once: every device picks the same).
func newer(r, cur *vault.KeysRecord) bool {
	if cur == nil || r.N != cur.N {
		return cur == nil || r.N > cur.N
	}
	return string(r.ID[:]) < string(cur.ID[:])
}

// learnKeys takes in the keys record of root: the epochs it hands out,
// and the record itself when it is newer than this device's.
func (n *Service) learnKeys(ctx context.Context, root *vault.Root) {
	if root.Keys == nil || n.removedErr() != nil {
		return
	}
	r, err := vault.ParseKeysRecord(root.Keys)
	if err != nil || r.Account != n.acct.Keys().PeerID() {
		n.log.Debug("ignored a keys record", "err", err)
		return
	}
	me := n.node.Host().ID()
	n.mu.Lock()
	_, certified := n.devices[r.By.String()]
	revoked := n.revokedLocked(r.By.String())
	cur := n.keys.parsed
	n.mu.Unlock()
	if revoked || (!certified && r.By != me) {
		n.log.Debug("ignored a keys record of a device not of the account", "by", r.By)
		return
	}
	if !newer(r, cur) && n.acct.Keys().HasEpoch(r.N, r.ID) {
		return
	}
	es, err := n.acct.Keys().OpenKeysRecord(r, n.node.Host().Peerstore().PrivKey(me))
	if err != nil {
		if newer(r, cur) {
			n.mu.Lock()
			n.keys.missing = fmt.Errorf("this device cannot read what the account writes from key epoch %d on: %w; link it again ('peer link' on a device of the account, 'peer init --link' here in a new repo), or give this repo the newest recovery key ('peer init --recover' in a new repo)", r.N, err)
			n.mu.Unlock()
			n.log.Warn("the account's keys were rotated, and this device was not given them", "epoch", r.N, "by", r.By, "err", err)
		}
		return
	}
	before := n.acct.Keys().Epochs()
	if _, err := n.acct.AddEpochs(es...); err != nil {
		n.log.Warn("failed to keep the account's key epochs", "err", err)
		return
	}
	if !newer(r, cur) {
		return
	}
	if err := n.devStore().Put(ctx, keysKey, root.Keys); err != nil {
		n.log.Warn("failed to keep the keys record", "err", err)
	}
	n.mu.Lock()
	n.keys.rec, n.keys.parsed, n.keys.missing = root.Keys, r, nil
	n.mu.Unlock()
	n.log.Info("took in the account's new keys", "epoch", r.N, "by", r.By)
	// Two rotations at once: the record that won leaves out the epoch
	// the other made, which data may be sealed under already.
	for _, e := range before {
		if !slices.Contains(es, e) {
			n.log.Info("the account's keys were rotated twice at once; rotating again so every device gets both", "epoch", e.N)
			n.rotate(ctx)
			return
		}
	}
	n.schedulePublish()
}

// checkKeys rotates the keys when the record this device holds was
// wrapped for a device removed since.
func (n *Service) checkKeys(ctx context.Context) {
	if n.removedErr() != nil {
		return
	}
	n.mu.Lock()
	r := n.keys.parsed
	stale := false
	if r != nil {
		for _, d := range r.To {
			stale = stale || n.revokedLocked(d.String())
		}
	}
	n.mu.Unlock()
	if stale {
		n.log.Info("the account's newest keys were given to a device removed since; rotating them", "epoch", r.N)
		n.rotate(ctx)
	}
}

// rotate makes a new key epoch for the devices of the account this
// device knows (itself among them), lists it in the roots from now on,
// and publishes.
func (n *Service) rotate(ctx context.Context) (vault.Epoch, error) {
	me := n.node.Host().ID()
	key := n.node.Host().Peerstore().PrivKey(me)
	if key == nil {
		return vault.Epoch{}, errors.New("failed to rotate the account's keys: this device's key is not at hand")
	}
	e, err := n.acct.NewEpoch()
	if err != nil {
		return e, fmt.Errorf("failed to rotate the account's keys: %w", err)
	}
	n.mu.Lock()
	to := []peer.ID{me}
	for id := range n.devices {
		if p, err := peer.Decode(id); err == nil && !n.revokedLocked(id) {
			to = append(to, p)
		}
	}
	n.mu.Unlock()
	b, err := n.acct.Keys().NewKeysRecord(rand.Reader, key, to)
	if err != nil {
		return e, fmt.Errorf("failed to rotate the account's keys: %w", err)
	}
	r, err := vault.ParseKeysRecord(b)
	if err != nil {
		return e, fmt.Errorf("failed to rotate the account's keys: %w", err)
	}
	if err := n.devStore().Put(ctx, keysKey, b); err != nil {
		n.log.Warn("failed to keep the keys record", "err", err)
	}
	n.mu.Lock()
	n.keys.rec, n.keys.parsed, n.keys.missing = b, r, nil
	n.mu.Unlock()
	n.log.Info("rotated the account's keys", "epoch", e.N, "devices", len(r.To))
	n.schedulePublish()
	return e, nil
}

// KeysMissing says why this device cannot read what the account writes
// now (its keys were rotated without it), nil when it can.
func (n *Service) KeysMissing() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.keys.missing
}
