package daemon

import (
	"net/http"
	"strings"

	"github.com/peer-cloud/peer/internal/passwd"
	"github.com/peer-cloud/peer/webui"
)

// withWebUI serves the web UI (package webui) at /, /login, /logout,
// /ui/ and /assets/, and lets a logged-in
// browser call the API with its session cookie instead of the token:
// an API request that sends no Authorization header but a session cookie
// goes to the UI's session and CSRF checks and then to api, the routes
// without the token check; every other API request goes to authed, the
// token check as before. The password that logs in is the one WebDAV
// takes on this listener: the API token or the 'peer passwd' password.
func (d *Daemon) withWebUI(api, authed http.Handler) http.Handler {
	check := &passwd.Checker{Token: d.repo.Token, Dir: d.repo.Dir}
	ui, err := webui.New(webui.Config{Check: check.Check, API: api, Log: d.log.With("part", "webui")})
	if err != nil {
		d.log.Warn("no web UI", "err", err)
		return authed
	}
	return serveUI(ui, authed)
}

// serveUI sends the web UI's paths to ui, API requests that carry a
// session cookie and no Authorization header to its session checks, and
// the rest to next.
func serveUI(ui *webui.Handler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case webui.Serves(r.URL.Path):
			ui.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/api/") && r.Header.Get("Authorization") == "" && webui.HasCookie(r):
			ui.ServeAPI(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
