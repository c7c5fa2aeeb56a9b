package replica

import (
	"context"
	"log/slog"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/internal/frame"
)

// Held is what a node holds of one account.
type Held struct {
	Role string  // RoleDevice or RoleDonor
	Root cid.Cid // the account root whose DAG is held
	Head cid.Cid
	Seq  uint64
}

// Holder says what this node holds: of which accounts, and which blocks
// (from its own store only, never fetched).
type Holder interface {
	Held(account peer.ID) (Held, bool)
	LocalBlock(ctx context.Context, c cid.Cid) ([]byte, error)
}

// Server answers replica requests.
type Server struct {
	host   host.Host
	key    crypto.PrivKey
	holder Holder
	log    *slog.Logger
	slots  chan struct{}
	now    func() time.Time
}

// timeout bounds one request, on either side.
const timeout = 5 * time.Second

// Serve answers replica requests on h for what holder holds, signing
// receipts with h's key, until Close.
func Serve(h host.Host, holder Holder, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{host: h, key: h.Peerstore().PrivKey(h.ID()), holder: holder, log: log, slots: make(chan struct{}, 4), now: time.Now}
	h.SetStreamHandler(Protocol, s.serve)
	return s
}

// Close stops answering.
func (s *Server) Close() { s.host.RemoveStreamHandler(Protocol) }

func (s *Server) serve(st network.Stream) {
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		st.Reset() // four at once are answered; a flood is not
		return
	}
	st.SetDeadline(time.Now().Add(timeout))
	data, err := frame.Read(st, maxMessage)
	if err != nil {
		st.Reset()
		return
	}
	req, err := unmarshalRequest(data)
	if err != nil {
		s.log.Debug("refused a replica request", "peer", st.Conn().RemotePeer(), "err", err)
		st.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := Receipt{Holder: s.host.ID(), Account: req.Account, Time: s.now().UnixNano(), Nonce: req.Nonce, Proofs: make([][]byte, len(req.Probes))}
	if h, ok := s.holder.Held(req.Account); ok {
		r.Role, r.Root, r.Head, r.Seq = h.Role, h.Root, h.Head, h.Seq
		for i, c := range req.Probes {
			r.Proofs[i] = []byte{}
			if data, err := s.holder.LocalBlock(ctx, c); err == nil {
				r.Proofs[i] = Proof(req.Nonce, data)
			}
		}
	} else {
		for i := range r.Proofs {
			r.Proofs[i] = []byte{} // it holds nothing of the account: it proves nothing
		}
	}
	out, err := sign(r, s.key)
	if err != nil {
		st.Reset()
		return
	}
	if err := frame.Write(st, out); err != nil {
		st.Reset()
		return
	}
	st.Close()
}
