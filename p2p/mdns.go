package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// mdnsSettle is how long the node waits after an interface event for the
// others that come with it (a link coming up brings several) before it
// looks at the interfaces again.
const mdnsSettle = 250 * time.Millisecond

// mdnsRecheck is how often interfaces are looked at without an event: the
// fallback where the system sends none (netlink is Linux only).
const mdnsRecheck = time.Minute

// mdnsRunner keeps mDNS discovery running as network interfaces come and
// go. An mDNS service fails to start without an interface that can
// multicast (a laptop offline, a Pi whose network comes up after the
// daemon, a container), and one that started binds the interfaces and
// announces the addresses of that moment. So the runner starts it when
// there is a multicast interface, and starts it again whenever the
// multicast interfaces, their addresses or their carrier change: on
// netlink events (Linux), on the host's address updates, and every
// mdnsRecheck. A new service announces itself under a new instance name,
// which the other nodes on the LAN report as new, and asks for them at
// once; so when a link comes back both ends hear of each other within a
// second and dial (see Node.peerHeard).
type mdnsRunner struct {
	n      *Node
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	svc     *mdnsAnnouncer
	started string // the interfaces svc was started on
	checked bool   // started was set once
	waiting bool   // "waits for an interface" was logged
	warned  bool   // it was logged as a warning once
}

// startMDNS starts discovery now if it can, and keeps it going until Close.
func (n *Node) startMDNS() *mdnsRunner {
	ctx, cancel := context.WithCancel(n.ctx)
	r := &mdnsRunner{n: n, cancel: cancel, done: make(chan struct{})}
	r.check()
	go r.loop(ctx)
	return r
}

func (r *mdnsRunner) loop(ctx context.Context) {
	defer close(r.done)
	var addrs <-chan any
	if sub, err := r.n.host.EventBus().Subscribe(new(event.EvtLocalAddressesUpdated)); err == nil {
		defer sub.Close()
		addrs = sub.Out()
	}
	links, err := watchInterfaces(ctx)
	if err != nil {
		r.n.log.Debug("no interface events; mDNS looks at interfaces every minute", "err", err)
	}
	recheck := time.NewTicker(mdnsRecheck)
	defer recheck.Stop()
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-links:
			settle.Reset(mdnsSettle)
		case <-addrs:
			settle.Reset(mdnsSettle)
		case <-settle.C:
			r.check()
		case <-recheck.C:
			r.check()
		}
	}
}

// check (re)starts the mDNS service if the multicast interfaces differ
// from those it runs on. On a change after the first start it also checks
// the node's connections: those whose link went down and came back may
// be dead, and a dead connection keeps libp2p from dialling the peer.
func (r *mdnsRunner) check() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n.ctx.Err() != nil {
		return
	}
	now := multicastInterfaces()
	if r.svc != nil && now == r.started {
		return
	}
	if r.svc != nil {
		r.svc.Close()
		r.svc = nil
	}
	if r.checked && now != r.started {
		r.n.checkConns()
	}
	r.started, r.checked = now, true
	err := errNoMulticast
	if now != "" {
		r.svc, err = r.start()
	}
	if err != nil {
		if !r.waiting {
			r.waiting = true
			// A warning the first time; a link that goes down later
			// (a laptop sleeping) is no news.
			level := slog.LevelWarn
			if r.warned {
				level = slog.LevelInfo
			}
			r.warned = true
			r.n.log.Log(r.n.ctx, level, "mDNS waits for a network interface that can multicast; peers are found once one is up", "err", err)
		}
		return
	}
	r.waiting = false
	r.n.log.Info("mDNS started", "interfaces", now)
}

// start announces the node's current interface addresses and browses.
func (r *mdnsRunner) start() (*mdnsAnnouncer, error) {
	h := mdnsHost{r.n.host}
	ifaddrs, err := h.Network().InterfaceListenAddresses()
	if err != nil {
		return nil, err
	}
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.ID(), Addrs: ifaddrs})
	if err != nil {
		return nil, fmt.Errorf("failed to make the addresses to announce: %w", err)
	}
	return startMDNSAnnouncer(addrs, r.n.peerHeard, r.n.log)
}

var errNoMulticast = errors.New("no interface is up with multicast and an address")

// Close stops discovery.
func (r *mdnsRunner) Close() error {
	r.cancel()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.svc != nil {
		r.svc.Close()
		r.svc = nil
	}
	return nil
}

// multicastInterfaces describes the interfaces that are up, can multicast
// and have an address, with those addresses and whether they have a
// carrier (a cable pulled at the switch leaves the interface up); "" if
// there are none.
func multicastInterfaces() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	var out []string
	for _, ifi := range ifaces {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil || len(addrs) == 0 {
			continue
		}
		s := make([]string, len(addrs))
		for i, a := range addrs {
			s[i] = a.String()
		}
		slices.Sort(s)
		carrier := ""
		if ifi.Flags&net.FlagRunning == 0 {
			carrier = "(no carrier)"
		}
		out = append(out, fmt.Sprintf("%s%s=%s", ifi.Name, carrier, strings.Join(s, ",")))
	}
	return strings.Join(out, " ")
}

// mdnsHost is the host as the mDNS service sees it, with interface
// addresses read afresh: libp2p caches them for a minute, and an interface
// that just came up must be announced at once.
type mdnsHost struct{ host.Host }

func (h mdnsHost) Network() network.Network { return freshAddrs{h.Host.Network()} }

type freshAddrs struct{ network.Network }

func (f freshAddrs) InterfaceListenAddresses() ([]ma.Multiaddr, error) {
	ifaces, err := manet.InterfaceMultiaddrs()
	if err != nil {
		return nil, fmt.Errorf("failed to list interface addresses: %w", err)
	}
	return manet.ResolveUnspecifiedAddresses(f.Network.ListenAddresses(), ifaces)
}
