package daemon

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/peer-cloud/peer/metrics"
)

// metricsHandler serves /metrics in Prometheus's text format: the peer_*
// metrics read from the node's parts at each scrape (package metrics),
// go-libp2p's own (libp2p_*, given the same registry in start), Go's
// runtime and the process's. It is mounted behind the API token like the
// API (README, "Metrics": Prometheus sends it from a credentials file).
func (d *Daemon) metricsHandler() http.Handler {
	src := metrics.Sources{
		Bitswap: d.node,
		Peers:   d.node.Host().Network(),
		Records: d.node,
		Store:   d.store,
		Names:   d.names,
	}
	// Set only those that exist: a nil pointer in an interface is not a
	// nil source.
	if d.acct != nil {
		src.Vault = d.acct
	}
	if d.folders != nil {
		src.Folders = d.folders
	}
	if d.donor != nil {
		src.Donor = d.donor
	}
	d.metrics.MustRegister(metrics.New(src))
	return promhttp.InstrumentMetricHandler(d.metrics, promhttp.HandlerFor(d.metrics, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(d.log.Handler(), slog.LevelDebug),
		ErrorHandling: promhttp.ContinueOnError, // one failing source spoils only its own metric
		// Scrapes that pile up (a scraper with a short timeout against a
		// slow disk) are refused (503) rather than each waiting for the
		// store's listing.
		MaxRequestsInFlight: 2,
	}))
}
