package p2p

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/zeroconf/v2"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// The names go-libp2p's mDNS discovery (and so Kubo) uses: service
// instances of _p2p._udp.local whose TXT records are dnsaddr=MULTIADDR.
const (
	mdnsService    = "_p2p._udp"
	mdnsDomain     = "local"
	mdnsDnsaddr    = "dnsaddr="
	mdnsPortUnused = 4001 // SRV needs a port; peers read only the TXT records
)

// mdnsRequery is how long a browse runs before a fresh one asks the LAN
// again. zeroconf reports a service instance once, then not again until
// its record's TTL (3200 s) ends, so without fresh browses a peer that
// dropped and kept its instance would not be heard of again for an hour.
// Each fresh browse is one query, answered once by each peer.
const mdnsRequery = 20 * time.Second

// mdnsAnnouncer is one mDNS service: a zeroconf server announcing this
// node's addresses under a random instance name, and browses for other
// instances, each reported with found. It is the wire-compatible
// counterpart of go-libp2p's mdns.Service, which browses only once.
type mdnsAnnouncer struct {
	server *zeroconf.Server
	found  func(ai peer.AddrInfo, instance string)
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	again  chan struct{}
}

// startMDNSAnnouncer announces addrs (the node's interface addresses with
// /p2p/ID) and starts browsing.
func startMDNSAnnouncer(addrs []ma.Multiaddr, found func(peer.AddrInfo, string), log *slog.Logger) (*mdnsAnnouncer, error) {
	var txts, ips []string
	var ip4, ip6 bool
	for _, a := range addrs {
		if !manet.IsThinWaist(a) {
			continue
		}
		txts = append(txts, mdnsDnsaddr+a.String())
		// The spec (and some routers) want A and AAAA records too.
		if ip, err := manet.ToIP(a); err == nil {
			if ip.To4() != nil && !ip4 {
				ip4 = true
				ips = append(ips, ip.String())
			} else if ip.To4() == nil && !ip6 {
				ip6 = true
				ips = append(ips, ip.String())
			}
		}
	}
	if len(ips) == 0 {
		return nil, errors.New("no IP address to announce")
	}
	name := randomInstance()
	srv, err := zeroconf.RegisterProxy(name, mdnsService, mdnsDomain, mdnsPortUnused, name, ips, txts, nil)
	if err != nil {
		return nil, fmt.Errorf("failed to announce on mDNS: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &mdnsAnnouncer{server: srv, found: found, log: log, ctx: ctx, cancel: cancel, again: make(chan struct{}, 1)}
	m.wg.Add(1)
	go m.browseLoop()
	return m, nil
}

// requery starts a fresh browse now: every peer that answers is reported
// again.
func (m *mdnsAnnouncer) requery() {
	select {
	case m.again <- struct{}{}:
	default:
	}
}

// browseLoop browses until Close, starting a fresh browse every
// mdnsRequery and on requery.
func (m *mdnsAnnouncer) browseLoop() {
	defer m.wg.Done()
	for {
		ctx, cancel := context.WithCancel(m.ctx)
		entries := make(chan *zeroconf.ServiceEntry, 64)
		res := make(chan error, 1)
		go func() { res <- zeroconf.Browse(ctx, mdnsService, mdnsDomain, entries) }()
		timer := time.NewTimer(mdnsRequery)
		var err error
	browse:
		for {
			select {
			case e, ok := <-entries:
				if !ok {
					entries = nil
					continue
				}
				m.report(e)
			case err = <-res:
				break browse
			case <-timer.C:
				cancel()
			case <-m.again:
				cancel()
			}
		}
		timer.Stop()
		cancel()
		if m.ctx.Err() != nil {
			return
		}
		if err != nil {
			// The runner starts a new service on the next change of
			// interfaces.
			m.log.Warn("mDNS cannot browse; peers are looked for again when the interfaces change", "err", err)
			return
		}
	}
}

func (m *mdnsAnnouncer) report(e *zeroconf.ServiceEntry) {
	var addrs []ma.Multiaddr
	for _, t := range e.Text {
		s, ok := strings.CutPrefix(t, mdnsDnsaddr)
		if !ok {
			continue
		}
		if a, err := ma.NewMultiaddr(s); err == nil {
			addrs = append(addrs, a)
		}
	}
	infos, err := peer.AddrInfosFromP2pAddrs(addrs...)
	if err != nil {
		return
	}
	for _, ai := range infos {
		m.found(ai, e.Instance)
	}
}

// Close stops browsing and announcing (with a goodbye, so peers forget
// this instance).
func (m *mdnsAnnouncer) Close() {
	m.cancel()
	m.server.Shutdown()
	m.wg.Wait()
}

func randomInstance() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 40)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
