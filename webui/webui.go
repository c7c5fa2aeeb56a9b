// Package webui is the daemon's web UI: a few pages and a script,
// embedded in the binary (no CDN, works offline), that call the JSON API
// under /api/ with the browser's session instead of the API token.
//
// # Sessions
//
// Logging in (POST /login) takes the password a [Config.Check] accepts
// (the API token, or the 'peer passwd' password) and answers with a
// session cookie: HttpOnly, SameSite=Strict, Secure over TLS. Sessions
// live in memory: a restart logs everyone out.
//
// # Cross-site requests
//
// A request that changes something (any method but GET, HEAD and
// OPTIONS) needs, besides the cookie, the session's CSRF token in the
// [CSRFHeader] header, which the page reads from GET /ui/session (a page
// of another origin cannot: it gets no CORS headers), and must not come
// from another origin by its Sec-Fetch-Site or Origin header
// ([http.CrossOriginProtection]). The login form is checked for its
// origin too, so another site cannot log the browser in. The daemon
// refuses a Host that is not loopback before any of this, which stops DNS
// rebinding.
package webui

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Config is what a [Handler] needs.
type Config struct {
	// Check reports whether a password opens the UI.
	Check func(password string) bool
	// API serves the API for requests that carry a session; it does not
	// check the API token.
	API http.Handler
	// SessionTTL is how long a session lasts unused (default 12 h).
	SessionTTL time.Duration
	Log        *slog.Logger
}

// Handler serves the web UI's pages and the API to logged-in browsers.
type Handler struct {
	cfg      Config
	mux      *http.ServeMux
	assets   map[string]*asset
	sessions *sessions
	origin   *http.CrossOriginProtection
	log      *slog.Logger
}

// New returns the UI's handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Check == nil || cfg.API == nil {
		return nil, errors.New("webui: Check and API are required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, assets: as, sessions: newSessions(cfg.SessionTTL), origin: http.NewCrossOriginProtection(), log: cfg.Log}
	h.origin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused a cross-origin request: open the web UI at this address and use it from there", http.StatusForbidden)
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.handleIndex)
	mux.HandleFunc("GET /login", h.handleLoginPage)
	mux.Handle("POST /login", h.origin.Handler(http.HandlerFunc(h.handleLogin)))
	mux.Handle("POST /logout", h.withSession(http.HandlerFunc(h.handleLogout)))
	mux.Handle("GET /ui/session", h.withSession(http.HandlerFunc(h.handleSession)))
	mux.Handle("POST /ui/qr", h.withSession(http.HandlerFunc(h.handleQR)))
	mux.HandleFunc("GET /assets/{name}", h.handleAsset)
	h.mux = mux
	return h, nil
}

// ServeHTTP serves the UI's own paths: /, /login, /logout, /ui/ and
// /assets/.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// ServeAPI serves an API request from a browser: it needs a session
// (else 401) and, to change anything, the CSRF token (else 403). Answers
// are marked so that a browser runs nothing they hold (a file opened
// from the vault is never a page of this origin).
func (h *Handler) ServeAPI(w http.ResponseWriter, r *http.Request) {
	h.withSession(h.cfg.API).ServeHTTP(w, r)
}

// Serves reports whether a path is one of the UI's own: /, /login,
// /logout, /ui/... and /assets/....
func Serves(path string) bool {
	return path == "/" || path == "/login" || path == "/logout" || strings.HasPrefix(path, "/ui/") || strings.HasPrefix(path, "/assets/")
}

// HasCookie reports whether a request carries a session cookie, valid or
// not: the daemon hands such API requests without a token to ServeAPI.
func HasCookie(r *http.Request) bool {
	_, err := r.Cookie(cookieName)
	return err == nil
}

// cspRest is the Content-Security-Policy of every page after its
// default-src (and, for index.html, the hashes of its script and style).
const cspRest = "img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders are set on every page: nothing from elsewhere, no
// inline script but index.html's own (by its hash), no framing.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; "+cspRest)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

func (h *Handler) handleIndex(w http.ResponseWriter, r *http.Request) {
	if h.sessions.get(r) == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	h.serveAsset(w, r, h.assets["index.html"])
}

func (h *Handler) handleAsset(w http.ResponseWriter, r *http.Request) {
	a := h.assets[r.PathValue("name")]
	if a == nil || a.name == "index.html" {
		http.NotFound(w, r)
		return
	}
	h.serveAsset(w, r, a)
}
