package webui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// maxGzipped is issue 13's bound on the embedded assets, gzipped.
const maxGzipped = 300 << 10

func TestAssetsGzippedSize(t *testing.T) {
	n, err := GzippedSize()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("embedded assets: %d bytes gzipped", n)
	if n > maxGzipped {
		t.Fatalf("the embedded assets are %d bytes gzipped; issue 13 allows %d", n, maxGzipped)
	}
}

// newTest serves a Handler whose API echoes the method, behind a
// password "right password".
func newTest(t *testing.T) (*httptest.Server, *Handler) {
	t.Helper()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "api "+r.Method)
	})
	h, err := New(Config{Check: func(p string) bool { return p == "right password" }, API: api})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Serves(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeAPI(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, h
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func TestAssetGzipAndETag(t *testing.T) {
	srv, _ := newTest(t)
	tr := &http.Transport{DisableCompression: true}
	c := &http.Client{Transport: tr}
	get := func(path string, hdr ...string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	plain := get("/assets/app.js")
	want, _ := io.ReadAll(plain.Body)
	if plain.StatusCode != 200 || plain.Header.Get("Content-Encoding") != "" || !strings.HasPrefix(plain.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("plain: %d %v", plain.StatusCode, plain.Header)
	}
	gz := get("/assets/app.js", "Accept-Encoding", "br, gzip")
	if gz.Header.Get("Content-Encoding") != "gzip" || gz.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip asked: %v", gz.Header)
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, want) {
		t.Fatal("gzipped asset differs from the plain one")
	}
	if r := get("/assets/app.js", "Accept-Encoding", "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip sent to a client that refused it")
	}
	etag := plain.Header.Get("ETag")
	if etag == "" || plain.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("no ETag or cache header: %v", plain.Header)
	}
	if r := get("/assets/app.js", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match with the ETag: %d; want 304", r.StatusCode)
	}
	if r := get("/assets/nothing.js"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("missing asset: %d", r.StatusCode)
	}
	if r := get("/assets/index.html"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("index.html served without a session: %d", r.StatusCode)
	}
}

func TestSessionAuth(t *testing.T) {
	srv, _ := newTest(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect}
	do := func(method, path string, body io.Reader, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, body)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	login := func(pass string, hdr ...string) *http.Response {
		t.Helper()
		resp, _ := do("POST", "/login", strings.NewReader(url.Values{"password": {pass}}.Encode()), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, hdr...)...)
		return resp
	}

	// Not logged in: the page sends to /login, the API answers 401.
	if r, _ := do("GET", "/", nil); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("GET / without a session: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if r, _ := do("GET", "/api/v1/x", nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API without a session: %d", r.StatusCode)
	}
	if r, _ := do("GET", "/ui/session", nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/ui/session without a session: %d", r.StatusCode)
	}
	// A wrong password, and a login posted by another site, set nothing.
	if r := login("wrong password"); r.StatusCode != http.StatusUnauthorized || len(r.Cookies()) != 0 {
		t.Fatalf("wrong password: %d, cookies %v", r.StatusCode, r.Cookies())
	}
	if r := login("right password", "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"); r.StatusCode != http.StatusForbidden || len(r.Cookies()) != 0 {
		t.Fatalf("cross-site login: %d, cookies %v", r.StatusCode, r.Cookies())
	}
	// The right one: a session cookie with its flags.
	r := login("right password")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	cs := r.Cookies()
	if len(cs) != 1 || cs[0].Name != cookieName || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode || cs[0].Path != "/" || cs[0].Secure {
		t.Fatalf("session cookie %+v; want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP", cs)
	}
	if r, body := do("GET", "/", nil); r.StatusCode != 200 || !strings.Contains(body, "function route()") || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("GET / with a session: %d %v", r.StatusCode, r.Header)
	}
	if r, _ := do("GET", "/login", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /login with a session: %d; want a redirect to /", r.StatusCode)
	}
	_, body := do("GET", "/ui/session", nil)
	csrf := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(body), `{"csrf":"`), `"}`)
	if len(csrf) < 40 {
		t.Fatalf("/ui/session: %s", body)
	}
	// Reads need the cookie only; changes the CSRF token too.
	if r, body := do("GET", "/api/v1/x", nil); r.StatusCode != 200 || body != "api GET" || r.Header.Get("Content-Security-Policy") != "default-src 'none'; sandbox" {
		t.Fatalf("API GET with a session: %d %q %v", r.StatusCode, body, r.Header)
	}
	if r, _ := do("POST", "/api/v1/x", nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("API POST without the CSRF token: %d; want 403", r.StatusCode)
	}
	if r, _ := do("POST", "/api/v1/x", nil, CSRFHeader, csrf+"x"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("API POST with a wrong CSRF token: %d; want 403", r.StatusCode)
	}
	if r, _ := do("DELETE", "/api/v1/x", nil, CSRFHeader, csrf, "Sec-Fetch-Site", "cross-site"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site API DELETE with the CSRF token: %d; want 403", r.StatusCode)
	}
	if r, body := do("POST", "/api/v1/x", nil, CSRFHeader, csrf, "Origin", srv.URL); r.StatusCode != 200 || body != "api POST" {
		t.Fatalf("API POST with the CSRF token: %d %q", r.StatusCode, body)
	}
	// Logging out ends the session.
	if r, _ := do("POST", "/logout", nil); r.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without the CSRF token: %d", r.StatusCode)
	}
	if r, _ := do("POST", "/logout", nil, CSRFHeader, csrf); r.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if r, _ := do("GET", "/api/v1/x", nil); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API after logout: %d", r.StatusCode)
	}
}

// The page carries its script and style sheet, and its policy allows
// exactly those by hash: no other inline script or style runs.
func TestIndexInlinesByHash(t *testing.T) {
	as, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	page := as["index.html"]
	for _, name := range []string{"app.js", "app.css"} {
		a := as[name]
		sum := sha256.Sum256(a.plain)
		if !bytes.Contains(page.plain, a.plain) || !strings.Contains(page.csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !a.inlined {
			t.Fatalf("index.html does not carry %s, or its policy does not allow it by hash", name)
		}
	}
	if strings.Contains(page.csp, "unsafe-inline") || !strings.HasPrefix(page.csp, "default-src 'self'; ") || !strings.Contains(page.csp, "frame-ancestors 'none'") {
		t.Fatalf("index.html's policy %q", page.csp)
	}
}

func TestSessionCookieSecureOverTLS(t *testing.T) {
	h, err := New(Config{Check: func(p string) bool { return p == "pw" }, API: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	c := srv.Client()
	c.CheckRedirect = noRedirect
	resp, err := c.PostForm(srv.URL+"/login", url.Values{"password": {"pw"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cs := resp.Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Fatalf("cookie over TLS %+v; want Secure", cs)
	}
}

func TestSessionsBounded(t *testing.T) {
	s := newSessions(time.Hour)
	for range maxSessions + 10 {
		s.start()
	}
	if len(s.m) != maxSessions {
		t.Fatalf("%d sessions kept; want %d", len(s.m), maxSessions)
	}
}

func TestQRSVG(t *testing.T) {
	svg, err := qrSVG("peer-link:example")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(svg, []byte("<svg ")) || !bytes.Contains(svg, []byte(`<path fill="#000" d="M`)) {
		t.Fatalf("svg: %.200s", svg)
	}
	if _, err := qrSVG(""); err == nil {
		t.Fatal("empty text drew a QR code")
	}
}
