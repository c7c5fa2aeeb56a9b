package donor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/internal/frame"
)

// AskProtocol is the stream protocol on which an open donor takes
// requests to serve an account (SPEC.md section 14.1, "Open donors").
const AskProtocol = "/peer/donor/ask/1"

// askWindow is how far a request's time may be from the donor's clock.
const askWindow = 10 * time.Minute

// maxAsk bounds a request and an answer on the wire.
const maxAsk = 1 << 10

type askRequest struct {
	Account []byte `cbor:"account"`
	Donor   []byte `cbor:"donor"`
	Time    int64  `cbor:"time"`
	Sig     []byte `cbor:"sig,omitempty"`
}

type askAnswer struct {
	Admitted bool   `cbor:"admitted"`
	Reason   string `cbor:"reason"`
}

func askSigned(r askRequest) ([]byte, error) {
	r.Sig = nil
	b, err := cbor.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append([]byte("peer/v1 donor ask\x00"), b...), nil
}

// ErrFull says an open donor has no room for another account.
var ErrFull = errors.New("the donor has no room for another account")

// Admit serves account id on its own request, if the donor is open and
// has room: with a per-account bound, as many accounts as the quota holds
// each at its bound; an account its operator stopped is not taken back.
func (s *Service) Admit(ctx context.Context, id peer.ID) error {
	// One at a time: two requests at once would both see room for one.
	s.admitMu.Lock()
	defer s.admitMu.Unlock()
	quota, per := s.limits()
	open := s.open()
	s.mu.Lock()
	_, served := s.mirrors[id]
	stopped := slices.Contains(s.settings.Stopped, id.String())
	n := len(s.mirrors)
	s.mu.Unlock()
	switch {
	case !open:
		return errors.New("the donor is not open: its operator chooses the accounts it serves")
	case served:
		return nil
	case stopped:
		return errors.New("the donor's operator stopped serving this account")
	case per <= 0:
		return errors.New("the donor is open but has no per-account bound, so it takes no account on request")
	case quota > 0 && int64(n+1)*per > quota:
		return fmt.Errorf("%w (%d served, %s each)", ErrFull, n, humanize.IBytes(uint64(per)))
	}
	if err := s.Serve(ctx, []peer.ID{id}, nil, nil); err != nil {
		return err
	}
	s.log.Info("serving an account that asked", "account", id)
	return nil
}

// serveAsk answers an account's request on an open donor.
func (s *Service) serveAsk(st network.Stream) {
	st.SetDeadline(time.Now().Add(10 * time.Second))
	data, err := frame.Read(st, maxAsk)
	if err != nil {
		st.Reset()
		return
	}
	ans := askAnswer{}
	if id, err := s.checkAsk(data, st.Conn().LocalPeer()); err != nil {
		ans.Reason = err.Error()
	} else if err := s.Admit(s.ctx, id); err != nil {
		ans.Reason = err.Error()
	} else {
		ans.Admitted = true
	}
	b, err := cbor.Marshal(ans)
	if err != nil || frame.Write(st, b) != nil {
		st.Reset()
		return
	}
	st.Close()
}

// checkAsk checks a request: for this donor, recent, signed by the
// account's key.
func (s *Service) checkAsk(data []byte, self peer.ID) (peer.ID, error) {
	var r askRequest
	if err := cbor.Unmarshal(data, &r); err != nil {
		return "", fmt.Errorf("bad request: %w", err)
	}
	id, err := peer.IDFromBytes(r.Account)
	if err != nil {
		return "", fmt.Errorf("bad request: account: %w", err)
	}
	if string(r.Donor) != string(self) {
		return "", errors.New("the request is for another donor")
	}
	if d := time.Since(time.Unix(0, r.Time)); d > askWindow || d < -askWindow {
		return "", errors.New("the request's time is too far from this donor's clock")
	}
	pub, err := id.ExtractPublicKey()
	if err != nil {
		return "", fmt.Errorf("bad request: the account's ID holds no key: %w", err)
	}
	msg, err := askSigned(r)
	if err != nil {
		return "", err
	}
	if ok, err := pub.Verify(msg, r.Sig); err != nil || !ok {
		return "", errors.New("the request is not signed by the account")
	}
	return id, nil
}

// Ask asks the open donor p to serve the account whose signing key is
// key, and reports whether it does.
func Ask(ctx context.Context, h host.Host, p peer.ID, key crypto.PrivKey) (bool, error) {
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return false, err
	}
	r := askRequest{Account: []byte(id), Donor: []byte(p), Time: time.Now().UnixNano()}
	msg, err := askSigned(r)
	if err != nil {
		return false, err
	}
	if r.Sig, err = key.Sign(msg); err != nil {
		return false, err
	}
	b, err := cbor.Marshal(r)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := h.NewStream(ctx, p, AskProtocol)
	if err != nil {
		return false, err
	}
	defer st.Close()
	st.SetDeadline(time.Now().Add(10 * time.Second))
	if err := frame.Write(st, b); err != nil {
		st.Reset()
		return false, err
	}
	st.CloseWrite()
	data, err := frame.Read(st, maxAsk)
	if err != nil {
		return false, err
	}
	var a askAnswer
	if err := cbor.Unmarshal(data, &a); err != nil {
		return false, fmt.Errorf("bad answer: %w", err)
	}
	if !a.Admitted {
		return false, errors.New(a.Reason)
	}
	return true, nil
}
