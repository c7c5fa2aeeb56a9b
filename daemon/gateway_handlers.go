package daemon

import (
	"net/http"
	"strings"

	"github.com/peer-cloud/peer/gateway"
)

// withGateway serves /ipfs/ and /ipns/ as an IPFS gateway (package
// gateway), without the API token: what it serves is content-addressed
// and public (plain IPFS content, and vault blocks, which are encrypted),
// and stock IPFS tools send no token. It listens where the API does, on
// loopback, behind the same Host check.
func (d *Daemon) withGateway(next http.Handler) http.Handler {
	gw, err := gateway.New(d.node.BlockService(), d.names)
	if err != nil {
		d.log.Warn("no gateway", "err", err)
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/ipfs/") || strings.HasPrefix(r.URL.Path, "/ipns/") {
			gw.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
