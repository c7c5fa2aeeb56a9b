package webui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// files are the UI's pages, script, style sheet and icon.
//
//go:embed assets
var files embed.FS

// asset is one embedded file, ready to serve plain or gzipped.
type asset struct {
	name  string
	ctype string
	plain []byte
	gz    []byte
	etag  string
	csp   string // the page's Content-Security-Policy; "": securityHeaders'
	// inlined: the file is also written into index.html, so a browser
	// does not fetch it.
	inlined bool
}

func newAsset(name string, b []byte) (*asset, error) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return &asset{name: name, ctype: ctype, plain: b, gz: gz.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}, nil
}

// inline writes the style sheet and the script into index.html, so that
// the page needs no more requests before it runs (two round trips the
// browser made one after the other), and allows exactly those two by
// their hashes in its Content-Security-Policy.
func inline(out map[string]*asset) error {
	page, css, js := out["index.html"], out["app.css"], out["app.js"]
	if css == nil || js == nil {
		return nil
	}
	const link, script = `<link rel="stylesheet" href="/assets/app.css">`, `<script src="/assets/app.js" defer></script>`
	html := string(page.plain)
	if !strings.Contains(html, link) || !strings.Contains(html, script) || !strings.Contains(html, "</body>") {
		return fmt.Errorf("webui: index.html does not load app.css and app.js as inline expects")
	}
	html = strings.Replace(html, link, "<style>"+string(css.plain)+"</style>", 1)
	html = strings.Replace(html, script, "", 1)
	html = strings.Replace(html, "</body>", "<script>"+string(js.plain)+"</script>\n</body>", 1)
	a, err := newAsset("index.html", []byte(html))
	if err != nil {
		return err
	}
	hash := func(b []byte) string {
		s := sha256.Sum256(b)
		return "'sha256-" + base64.StdEncoding.EncodeToString(s[:]) + "'"
	}
	a.csp = "default-src 'self'; script-src 'self' " + hash(js.plain) + "; style-src 'self' " + hash(css.plain) + "; " + cspRest
	out["index.html"] = a
	css.inlined, js.inlined = true, true
	return nil
}

// loadAssets reads the embedded files and gzips them, once.
func loadAssets() (map[string]*asset, error) {
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		return nil, err
	}
	out := map[string]*asset{}
	err = fs.WalkDir(sub, ".", func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		out[p], err = newAsset(p, b)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("webui: failed to read the embedded files: %w", err)
	}
	if out["index.html"] == nil {
		return nil, fmt.Errorf("webui: no index.html among the embedded files")
	}
	if err := inline(out); err != nil {
		return nil, err
	}
	return out, nil
}

// GzippedSize is the sum of the gzipped sizes of the files a browser
// loads (index.html with the script and style sheet in it, the icon).
func GzippedSize() (int, error) {
	as, err := loadAssets()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range as {
		if !a.inlined {
			n += len(a.gz)
		}
	}
	return n, nil
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// serveAsset writes a, gzipped if the client takes it, with its ETag;
// the browser asks again each time (no-cache) and gets 304 while it has
// the file.
func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	hd := w.Header()
	securityHeaders(w)
	if a.csp != "" {
		hd.Set("Content-Security-Policy", a.csp)
	}
	hd.Set("Content-Type", a.ctype)
	hd.Set("ETag", a.etag)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Vary", "Accept-Encoding")
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == a.etag || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	body := a.plain
	if acceptsGzip(r) {
		body = a.gz
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}
