package daemon

import (
	"net/http"
	"strings"

	"github.com/peer-cloud/peer/dav"
)

// davPrefix is where WebDAV is served.
const davPrefix = "/dav"

// withDAV serves WebDAV under /dav/ (HTTP Basic auth: any user name, the
// API token or the 'peer passwd' password as password) and passes every
// other request to next.
func (d *Daemon) withDAV(next http.Handler) http.Handler {
	h := dav.New(dav.Config{Account: d.acct, Store: d.store, Prefix: davPrefix, Log: d.log.With("part", "dav")})
	auth := &dav.Auth{Token: d.repo.Token, Dir: d.repo.Dir}
	served := auth.Wrap(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == davPrefix || strings.HasPrefix(r.URL.Path, davPrefix+"/") {
			served.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
