package sync

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/peer-cloud/peer/vault"
)

// A device that fell behind (it was off, or its link was down) lacks a
// chain of snapshots. Bitswap fetches a chain one level per round trip,
// and boxo spaces the messages to one peer at least 20 ms apart, so 300
// changes took seconds to fetch. So the device first asks another device
// of the account for the whole of what it lacks, in one round trip: it
// names the head it wants and a few of its own snapshots (its head, then
// ancestors at growing distances); the other device walks the wanted DAG
// from its own store as the follower would (newWalk), skipping what the
// newest of those snapshots it holds makes complete, and streams the
// blocks. The asker checks each block against its CID and stores it; its
// fetch of the head then finds them local. What the stream does not
// bring, Bitswap does.

// pullProtocol is the protocol of a pull.
const pullProtocol = protocol.ID("/peer/sync/pull/1")

// Bounds of pulling.
const (
	maxPullHaves   = 16
	maxPullAncestr = 1 << 12 // snapshots walked to pick the haves
	// maxPullReply bounds the bytes one reply sends. It was 256 MiB, and
	// a 1 GiB file's last 768 MiB then came through Bitswap at two
	// thirds of the pull's rate.
	maxPullReply int64 = 4 << 30
	// pullServeTimeout bounds serving one pull; pullOpenTimeout opening
	// one, and pullIdle the wait for each block of a reply (on either
	// side: an asker that stops reading frees the slot).
	pullServeTimeout = 10 * time.Minute
	pullOpenTimeout  = 2 * time.Second
	pullIdle         = 5 * time.Second
	// maxPullServing bounds the pulls served at once.
	maxPullServing = 2
	// maxPulledBlock is Bitswap's limit on a block, which no vault block
	// comes near.
	maxPulledBlock = 2 << 20
	// pullBatchBlocks and pullBatchBytes bound the blocks an asker holds
	// before it stores them, in one commit.
	pullBatchBlocks = 512
	pullBatchBytes  = 8 << 20
)

// servePull answers a pull from another device of the account: one this
// device knows from the account's roots, or one whose request holds its
// certificate (a device that only followed has published no root yet).
func (n *Service) servePull(s network.Stream) {
	remote := s.Conn().RemotePeer()
	select {
	case n.pullSlots <- struct{}{}:
		defer func() { <-n.pullSlots }()
	default:
		s.Reset() // busy: the asker falls back to Bitswap
		return
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(n.ctx, pullServeTimeout)
	defer cancel()
	s.SetReadDeadline(time.Now().Add(pullIdle))
	r := bufio.NewReader(io.LimitReader(s, 64<<10))
	cert, err := readBytes(r, maxCertBytes)
	if err == nil && !n.isDevice(remote) {
		err = n.checkPullCert(remote, cert)
	}
	var cids []cid.Cid
	if err == nil {
		cids, err = readCIDs(r, 1+maxPullHaves)
	}
	if err != nil {
		n.log.Debug("refused a pull", "peer", remote, "err", err)
		s.Reset()
		return
	}
	want, haves := cids[0], cids[1:]
	bs := n.store.Blockstore()
	var ours *vault.Snapshot
	for _, h := range haves {
		if has, err := bs.Has(ctx, h); err != nil || !has {
			continue
		}
		if snap, err := n.acct.Vault().OpenSnapshot(ctx, h); err == nil {
			ours = snap
			break
		}
	}
	w := bufio.NewWriterSize(s, 256<<10)
	sent, bytes := 0, int64(0)
	failed := false
	n.walkLocal(ctx, want, ours, true, func(b blocks.Block, held bool) bool {
		if !held {
			return true // not here: the asker's Bitswap finds it elsewhere
		}
		if bytes += int64(len(b.RawData())); bytes > maxPullReply {
			return false
		}
		s.SetWriteDeadline(time.Now().Add(pullIdle))
		if err := writeBlock(w, b); err != nil {
			failed = true
			return false
		}
		sent++
		return true
	})
	if failed {
		s.Reset()
		return
	}
	s.SetWriteDeadline(time.Now().Add(pullIdle))
	if err := w.Flush(); err != nil {
		s.Reset()
		return
	}
	n.log.Debug("served a pull", "peer", remote, "want", want, "have", ours != nil, "blocks", sent, "bytes", bytes)
}

// pull asks the account's connected devices, one after the other until
// one sends something, for what head's DAG holds that this device lacks,
// and stores what comes, at most budget bytes. It returns the blocks
// stored; failing, it only logs: the fetch that follows gets the rest by
// Bitswap.
func (n *Service) pull(ctx context.Context, head cid.Cid, ours *vault.Snapshot, budget int64) int {
	haves := n.pullHaves(ctx, ours)
	for _, p := range n.node.Host().Network().Peers() {
		if !n.isDevice(p) {
			continue
		}
		got, err := n.pullFrom(ctx, p, head, haves, budget)
		if got > 0 || ctx.Err() != nil {
			n.pulled.Add(int64(got))
			return got
		}
		n.log.Debug("pull failed", "peer", p, "err", err)
	}
	return 0
}

func (n *Service) pullFrom(ctx context.Context, p peer.ID, head cid.Cid, haves []cid.Cid, budget int64) (int, error) {
	octx, cancel := context.WithTimeout(ctx, pullOpenTimeout)
	s, err := n.node.Host().NewStream(network.WithNoDial(octx, "pull from a connected device"), p, pullProtocol)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("failed to open a pull: %w", err)
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	s.SetWriteDeadline(time.Now().Add(pullOpenTimeout))
	req := binary.AppendUvarint(nil, uint64(len(n.acct.Cert())))
	if _, err := s.Write(append(req, n.acct.Cert()...)); err != nil {
		s.Reset()
		return 0, fmt.Errorf("failed to ask for a pull: %w", err)
	}
	if err := writeCIDs(s, append([]cid.Cid{head}, haves...)); err != nil {
		s.Reset()
		return 0, fmt.Errorf("failed to ask for a pull: %w", err)
	}
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		return 0, fmt.Errorf("failed to ask for a pull: %w", err)
	}
	bs := n.store.Blockstore()
	r := bufio.NewReaderSize(s, 256<<10)
	got := 0
	var stored, pendingBytes int64
	var pending []blocks.Block
	// Blocks are stored a batch at a time: one Put each, one Badger
	// commit waited for each, held a pull of 10 000 small files (20 000
	// blocks) to ~10 000 blocks a second. What came is stored whatever
	// ends the pull.
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := bs.PutMany(ctx, pending); err != nil {
			return fmt.Errorf("failed to store pulled blocks: %w", err)
		}
		got += len(pending)
		pending, pendingBytes = pending[:0], 0
		return nil
	}
	fail := func(err error) (int, error) {
		s.Reset()
		if ferr := flush(); ferr != nil && err == nil {
			err = ferr
		}
		return got, err
	}
	for {
		s.SetReadDeadline(time.Now().Add(pullIdle))
		b, err := readBlock(r)
		if errors.Is(err, io.EOF) {
			if err := flush(); err != nil {
				return got, err
			}
			return got, nil
		}
		if err != nil {
			return fail(err)
		}
		if stored += int64(len(b.RawData())); stored > budget {
			return fail(fmt.Errorf("a pull of more than the %d bytes this disk can spare", budget))
		}
		pending = append(pending, b)
		if pendingBytes += int64(len(b.RawData())); len(pending) >= pullBatchBlocks || pendingBytes >= pullBatchBytes {
			if err := flush(); err != nil {
				return fail(err)
			}
		}
	}
}

// pullHaves names this device's head and ancestors of it at distances
// 1, 2, 4, ... along first parents, so that another device that lacks
// the newest (changes made offline here) still finds one it holds.
func (n *Service) pullHaves(ctx context.Context, ours *vault.Snapshot) []cid.Cid {
	if ours == nil {
		return nil
	}
	out := []cid.Cid{ours.CID}
	bs := n.store.Blockstore()
	c, next := ours.CID, 1
	for i := 1; i <= maxPullAncestr && len(out) < maxPullHaves; i++ {
		b, err := bs.Get(ctx, c)
		if err != nil {
			break
		}
		_, parents, err := vault.SnapshotLinks(c, b.RawData())
		if err != nil || len(parents) == 0 {
			break
		}
		c = parents[0]
		if i == next {
			out = append(out, c)
			next *= 2
		}
	}
	return out
}

// maxCertBytes bounds a device certificate in a pull request.
const maxCertBytes = 4 << 10

// checkPullCert checks that cert certifies p as a device of this account
// that was not removed.
func (n *Service) checkPullCert(p peer.ID, cert []byte) error {
	c, err := vault.ParseDeviceCert(cert)
	if err != nil {
		return fmt.Errorf("a pull with no valid device certificate: %w", err)
	}
	if c.Account != n.acct.Keys().PeerID() || c.Device != p {
		return fmt.Errorf("a pull with the certificate of device %s of account %s", c.Device, c.Account)
	}
	if n.isRevoked(p) {
		return fmt.Errorf("a pull from removed device %s", p)
	}
	return nil
}

// readBytes reads a uvarint length and that many bytes, at most max.
func readBytes(r *bufio.Reader, max int) ([]byte, error) {
	l, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("failed to read a pull request: %w", err)
	}
	if l > uint64(max) {
		return nil, fmt.Errorf("a pull request with %d bytes where at most %d belong", l, max)
	}
	b := make([]byte, l)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("failed to read a pull request: %w", err)
	}
	return b, nil
}

// writeCIDs writes a count, then each CID as its length and bytes, all
// as uvarints before the bytes.
func writeCIDs(w io.Writer, cids []cid.Cid) error {
	buf := binary.AppendUvarint(nil, uint64(len(cids)))
	for _, c := range cids {
		buf = binary.AppendUvarint(buf, uint64(c.ByteLen()))
		buf = append(buf, c.Bytes()...)
	}
	_, err := w.Write(buf)
	return err
}

// readCIDs reads what writeCIDs wrote, at most max CIDs, each a CID the
// vault writes.
func readCIDs(r *bufio.Reader, max int) ([]cid.Cid, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("failed to read a pull request: %w", err)
	}
	if n == 0 || n > uint64(max) {
		return nil, fmt.Errorf("a pull request of %d CIDs; 1 to %d", n, max)
	}
	out := make([]cid.Cid, 0, n)
	for range n {
		l, err := binary.ReadUvarint(r)
		if err != nil || l == 0 || l > 128 {
			return nil, fmt.Errorf("a pull request with a CID of %d bytes: %v", l, err)
		}
		b := make([]byte, l)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("failed to read a pull request: %w", err)
		}
		c, err := cid.Cast(b)
		if err != nil {
			return nil, fmt.Errorf("a pull request with a bad CID: %w", err)
		}
		if err := vault.CheckCID(c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// writeBlock writes a block as its CID's length and bytes, then its
// data's length and bytes (uvarint lengths).
func writeBlock(w *bufio.Writer, b blocks.Block) error {
	var hdr [binary.MaxVarintLen64]byte
	c := b.Cid().Bytes()
	w.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(c)))])
	w.Write(c)
	w.Write(hdr[:binary.PutUvarint(hdr[:], uint64(len(b.RawData())))])
	_, err := w.Write(b.RawData())
	return err
}

// readBlock reads what writeBlock wrote and checks the data against the
// CID, which must be one the vault writes; io.EOF at a clean end.
func readBlock(r *bufio.Reader) (blocks.Block, error) {
	l, err := binary.ReadUvarint(r)
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil || l == 0 || l > 128 {
		return nil, fmt.Errorf("a pulled block with a CID of %d bytes: %v", l, err)
	}
	cb := make([]byte, l)
	if _, err := io.ReadFull(r, cb); err != nil {
		return nil, fmt.Errorf("failed to read a pulled block: %w", err)
	}
	c, err := cid.Cast(cb)
	if err != nil {
		return nil, fmt.Errorf("a pulled block with a bad CID: %w", err)
	}
	if err := vault.CheckCID(c); err != nil {
		return nil, err
	}
	size, err := binary.ReadUvarint(r)
	if err != nil || size > maxPulledBlock {
		return nil, fmt.Errorf("a pulled block of %d bytes: %v", size, err)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("failed to read a pulled block: %w", err)
	}
	if got, err := c.Prefix().Sum(data); err != nil || !got.Equals(c) {
		return nil, fmt.Errorf("a pulled block does not match its CID %s", c)
	}
	return blocks.NewBlockWithCid(data, c)
}

// maxRootPull bounds what a pull of an account root may bring: the root
// alone (a root has no place in the walk, so it is sent without what it
// links to).
const maxRootPull = 1 << 20

// racingPull is a pull that runs beside a Bitswap fetch of its first
// block and may go on after that block came.
type racingPull struct {
	cancel  context.CancelFunc
	done    chan struct{}
	arrived chan struct{} // closed when Bitswap brought the block
	got     int           // blocks stored; read after done
}

// wait ends with the pull and returns the blocks it stored.
func (r *racingPull) wait() int {
	if r == nil {
		return 0
	}
	<-r.done
	return r.got
}

// stop cuts the pull short and returns the blocks it stored.
func (r *racingPull) stop() int {
	if r == nil {
		return 0
	}
	r.cancel()
	return r.wait()
}

// getOrPull makes block c local by Bitswap (under ctx) and, at once, by
// pull (under pctx), and returns as soon as either brought it. Bitswap
// alone could wait a minute: after a link flap the other device sends
// its blocks on new streams, which libp2p opens over the connection with
// the most streams, the old one, dead until a ping finds it so; a lost
// block is asked for again only at Bitswap's next rebroadcast. A pull's
// reply comes back on the stream this device opened, over a connection
// of its choice. The pull may go on after c came (a head's pull brings
// what the head lacks); the caller waits for it or stops it, also when
// getOrPull fails. No pull runs when c is local already.
func (n *Service) getOrPull(ctx, pctx context.Context, c cid.Cid, pull func(context.Context) int) (*racingPull, error) {
	bs := n.store.Blockstore()
	if has, err := bs.Has(ctx, c); err == nil && has {
		return nil, nil
	}
	pctx, pcancel := context.WithCancel(pctx)
	r := &racingPull{cancel: pcancel, done: make(chan struct{}), arrived: make(chan struct{})}
	go func() {
		defer close(r.done)
		// A pull that brought nothing while c is still missing is made
		// again (retry.go), until Bitswap brings c: Bitswap's want may
		// have gone over the same dead connection, and it asks again
		// only a minute later. Seen in the vanish figure: a device back
		// from a cut-off merged and pushed its record; the other two
		// pulled its root once, over the dead connection, then waited
		// on Bitswap, dropping the pushes of that root as in flight.
		var wait retryWait
		for {
			if r.got = pull(pctx); r.got > 0 {
				return
			}
			if has, err := bs.Has(pctx, c); err != nil || has || !wait.sleep(pctx, r.arrived) {
				return
			}
		}
	}()
	gctx, gcancel := context.WithCancel(ctx)
	defer gcancel()
	got := make(chan error, 1)
	go func() { got <- n.getBlock(gctx, c) }()
	pulled := r.done
	for {
		select {
		case err := <-got:
			if err == nil {
				close(r.arrived)
				return r, nil
			}
			// Bitswap gave up (ctx ended): what the pull brought may
			// still hold c.
			r.wait()
			if has, herr := bs.Has(pctx, c); herr == nil && has {
				return r, nil
			}
			return r, err
		case <-pulled:
			pulled = nil
			if has, err := bs.Has(ctx, c); err == nil && has {
				return r, nil
			}
			// The pull did not bring c: Bitswap may.
		}
	}
}

// lacks reports whether a fetch of head would ask for a block: whether
// the walk that fetch makes, over local blocks only, meets one that is
// not here. Then the fetch begins with a pull, whose one round trip
// brings what is below that block too. That is so when the device fell
// behind (a parent is missing), when a change was too big to announce
// (10 000 files added to a synced folder took 8 s through Bitswap), and
// when a file was added apart from its change (a synced folder's scan
// stores the chunks first, so they are not announced: Bitswap fetched a
// 1 GiB file's 3 000 chunks at 66 MB/s on a link where a pull streams
// them). Chunks it only asks the store about, unread.
func (n *Service) lacks(ctx context.Context, head cid.Cid, ours *vault.Snapshot) bool {
	missing := false
	n.walkLocal(ctx, head, ours, false, func(_ blocks.Block, held bool) bool {
		missing = !held
		return held
	})
	return missing
}

// walkLocal walks, depth first from want, the DAG a fetch of want over
// ours walks (newWalk), over the blocks this device holds. It hands visit
// each block and whether it is held (the links of one not held cannot be
// followed); with leaves false a chunk (a raw block, which links to
// nothing) is only looked up, and handed as nil. The walk stops when
// visit returns false or ctx ends.
func (n *Service) walkLocal(ctx context.Context, want cid.Cid, ours *vault.Snapshot, leaves bool, visit func(b blocks.Block, held bool) bool) {
	bs := n.store.Blockstore()
	walk := newNewWalk(ctx, n.acct.Vault(), bs, ours)
	walk.memo = &n.links
	stack, seen := []cid.Cid{want}, map[cid.Cid]bool{}
	for len(stack) > 0 && ctx.Err() == nil {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[c] {
			continue
		}
		seen[c] = true
		if !leaves && c.Prefix().Codec == cid.Raw {
			has, err := bs.Has(ctx, c)
			if !visit(nil, err == nil && has) {
				return
			}
			continue
		}
		b, err := bs.Get(ctx, c)
		if err != nil {
			if !visit(nil, false) {
				return
			}
			continue
		}
		if !visit(b, true) {
			return
		}
		links, err := walk.links(b)
		if err != nil {
			continue
		}
		stack = append(stack, links...)
	}
}
