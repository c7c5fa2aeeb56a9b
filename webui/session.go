package webui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// cookieName is the session cookie's name.
	cookieName = "peer_session"
	// CSRFHeader carries the session's CSRF token on requests that change
	// something.
	CSRFHeader = "X-CSRF-Token"
	// maxSessions bounds the sessions kept; logging in beyond it ends the
	// one unused longest.
	maxSessions = 64
)

// session is one logged-in browser.
type session struct {
	csrf string
	used time.Time
}

// sessions are the live sessions by ID.
type sessions struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[[32]byte]*session // by the SHA-256 of the ID, so a lookup's timing tells nothing of IDs
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, m: map[[32]byte]*session{}}
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// start makes a session and returns its ID.
func (s *sessions) start() string {
	id := randomToken()
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest [32]byte
	var oldestUsed time.Time
	for k, v := range s.m {
		if now.Sub(v.used) > s.ttl {
			delete(s.m, k)
		} else if oldestUsed.IsZero() || v.used.Before(oldestUsed) {
			oldest, oldestUsed = k, v.used
		}
	}
	if len(s.m) >= maxSessions {
		delete(s.m, oldest)
	}
	s.m[sha256.Sum256([]byte(id))] = &session{csrf: randomToken(), used: now}
	return id
}

// get returns the request's live session, nil if none, and marks it used.
func (s *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := sha256.Sum256([]byte(c.Value))
	ss := s.m[key]
	if ss == nil {
		return nil
	}
	if now.Sub(ss.used) > s.ttl {
		delete(s.m, key)
		return nil
	}
	ss.used = now
	return ss
}

// end forgets the request's session.
func (s *sessions) end(r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		s.mu.Lock()
		delete(s.m, sha256.Sum256([]byte(c.Value)))
		s.mu.Unlock()
	}
}

// safeMethod reports whether a method changes nothing.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// withSession lets through requests with a live session and, unless the
// method is safe, the session's CSRF token and no cross-origin marks.
func (h *Handler) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		s := h.sessions.get(r)
		if s == nil {
			writeError(w, http.StatusUnauthorized, "not logged in, or the session ended: log in at /login with the API token (the repo's api.token) or the 'peer passwd' password")
			return
		}
		if !safeMethod(r.Method) {
			if err := h.origin.Check(r); err != nil {
				writeError(w, http.StatusForbidden, "refused a cross-origin request: "+err.Error())
				return
			}
			if got := r.Header.Get(CSRFHeader); subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
				writeError(w, http.StatusForbidden, "missing or wrong "+CSRFHeader+" header: reload the page")
				return
			}
		}
		// Uploads stream: the API may answer (progress) while it still
		// reads the body, which HTTP/1 in Go allows only in full duplex.
		http.NewResponseController(w).EnableFullDuplex()
		// What the API answers is data, never a page of this origin.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}

// setCookie sets (or, with an empty id, removes) the session cookie.
func setCookie(w http.ResponseWriter, r *http.Request, id string) {
	c := &http.Cookie{
		Name:     cookieName,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		Secure:   r.TLS != nil,
	}
	if id == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>peer · log in</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body class="login">
<form method="post" action="/login" class="card login-card">
<h1><img src="/assets/icon.svg" alt="" width="32" height="32"> peer</h1>
<p>Your vault on this device. Log in with the API token (<code>cat ~/.peer/api.token</code>) or the password set with <code>peer passwd</code>.</p>
{{if .}}<p class="error" id="login-error" role="alert">{{.}}</p>{{end}}
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required autofocus>
<button type="submit" class="primary" id="login-submit">Log in</button>
</form>
</body>
</html>
`))

func (h *Handler) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if h.sessions.get(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	h.renderLogin(w, http.StatusOK, "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, status int, msg string) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	loginPage.Execute(w, msg)
}

// handleLogin starts a session for the right password (a form field).
func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	pass := r.PostFormValue("password")
	if pass == "" || !h.cfg.Check(pass) {
		h.log.Info("web UI login refused", "remote", r.RemoteAddr)
		h.renderLogin(w, http.StatusUnauthorized, "Wrong password.")
		return
	}
	h.sessions.end(r)
	setCookie(w, r, h.sessions.start())
	h.log.Info("web UI login", "remote", r.RemoteAddr)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request) {
	h.sessions.end(r)
	setCookie(w, r, "")
	w.WriteHeader(http.StatusNoContent)
}

// handleSession gives the page its session's CSRF token.
func (h *Handler) handleSession(w http.ResponseWriter, r *http.Request) {
	s := h.sessions.get(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		CSRF string `json:"csrf"`
	}{s.csrf})
}

// handleQR draws the request's body (a link URI) as an SVG QR code.
func (h *Handler) handleQR(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "failed to read the text for the QR code: "+err.Error())
		return
	}
	svg, err := qrSVG(strings.TrimSpace(string(b)))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(svg)
}
