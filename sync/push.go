package sync

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Gossipsub can lose a device's subscriptions for good: when a dead
// connection to a peer that connected again is closed, it drops the
// peer's topics and opens a new stream, but the peer, whose own stream is
// fine, never sends them again. Records then reach that device only at
// its next catch-up. So a record goes to a device of the account that is
// connected but not on the record topic straight, over a stream of this
// protocol: the record's length (uvarint) and the record. The receiver
// takes it as one that came on pubsub.
const pushProtocol = protocol.ID("/peer/sync/record/1")

// Bounds of pushing a record.
const (
	maxPushedRecord = 10 << 10
	pushTimeout     = 5 * time.Second
	pushAttempts    = 4
	pushAckTimeout  = time.Second
)

// pushRecord sends the newest record of the account known here to p,
// and makes the push again (retry.go) while it is not taken, pushAttempts
// times in all.
func (n *Service) pushRecord(ctx context.Context, p peer.ID) error {
	var wait retryWait
	for i := 1; ; i++ {
		err := n.pushOnce(ctx, p)
		if err == nil || i == pushAttempts || !wait.sleep(ctx, nil) {
			return err
		}
	}
}

// pushOnce makes one push of the newest record to p.
func (n *Service) pushOnce(ctx context.Context, p peer.ID) error {
	rec, err := n.ns.Local(ctx, n.acct.Keys().PeerID())
	if err != nil {
		return fmt.Errorf("failed to push the account's record: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	s, err := n.node.Host().NewStream(network.WithNoDial(ctx, "push a record to a connected device"), p, pushProtocol)
	if err != nil {
		return fmt.Errorf("failed to push the account's record: %w", err)
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(pushTimeout))
	if _, err := s.Write(append(binary.AppendUvarint(nil, uint64(len(rec.Raw))), rec.Raw...)); err != nil {
		s.Reset()
		return fmt.Errorf("failed to push the account's record: %w", err)
	}
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		return fmt.Errorf("failed to push the account's record: %w", err)
	}
	// The receiver closes the stream once it has taken the record. Until
	// then nothing says the bytes went anywhere: a stream over a dead
	// connection takes the write and loses it (a device back from a
	// cut-off pushed its merged record five times, and the other device
	// got none of them). A live receiver answers in well under a second
	// on a LAN; a dead connection never does, and its ping closes it
	// within one.
	s.SetReadDeadline(time.Now().Add(pushAckTimeout))
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		s.Reset()
		if err == nil {
			err = errors.New("the receiver sent bytes")
		}
		return fmt.Errorf("failed to push the account's record: not taken: %w", err)
	}
	return nil
}

// servePush takes in a record another device of the account pushed.
func (n *Service) servePush(s network.Stream) {
	remote := s.Conn().RemotePeer()
	if !n.isDevice(remote) {
		s.Reset()
		return
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(pushTimeout))
	r := bufio.NewReader(io.LimitReader(s, maxPushedRecord+binary.MaxVarintLen64))
	raw, err := readBytes(r, maxPushedRecord)
	if err == nil {
		_, err = n.ns.Accept(n.acct.Keys().PeerID(), raw)
	}
	if err != nil {
		n.log.Debug("refused a pushed record", "peer", remote, "err", err)
		s.Reset()
		return
	}
	n.log.Debug("took a pushed record", "peer", remote)
}

// tellRemoved pushes the newest record known here, whose root lists the
// revocation, to a removed device that connected. Nothing else would tell
// it: its own catch-up may keep finding its own record (it published one
// while away, with a sequence number that can pass the others'), and no
// device pushes to it any more. Once told, an unchanged peer stops.
func (n *Service) tellRemoved(p peer.ID) {
	if n.ns == nil {
		return
	}
	n.bg.Go(func() {
		if err := n.pushRecord(n.ctx, p); err != nil {
			n.log.Debug("failed to tell a removed device of its removal", "peer", p, "err", err)
			return
		}
		n.log.Debug("told a removed device of its removal", "peer", p)
	})
}
