package webui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
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
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(b)
		if err := zw.Close(); err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		out[p] = &asset{name: p, ctype: ctype, plain: b, gz: gz.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webui: failed to read the embedded files: %w", err)
	}
	if out["index.html"] == nil {
		return nil, fmt.Errorf("webui: no index.html among the embedded files")
	}
	return out, nil
}

// GzippedSize is the sum of the embedded files' gzipped sizes, what a
// browser loading every one of them transfers.
func GzippedSize() (int, error) {
	as, err := loadAssets()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range as {
		n += len(a.gz)
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
