package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/peer-cloud/peer/dav"
	"github.com/peer-cloud/peer/internal/passwd"
	"github.com/peer-cloud/peer/repo"
	"github.com/peer-cloud/peer/webui"
)

// davPrefix is where WebDAV is served.
const davPrefix = "/dav"

// isDAV reports whether a request is for WebDAV.
func isDAV(r *http.Request) bool {
	return r.URL.Path == davPrefix || strings.HasPrefix(r.URL.Path, davPrefix+"/")
}

// davHandler returns the WebDAV handler, one for both listeners (their
// locks and Finder files are the same).
func (d *Daemon) davHandler() *dav.Handler {
	if d.dav == nil {
		d.dav = dav.New(dav.Config{Account: d.acct, Store: d.store, Prefix: davPrefix, Log: d.log.With("part", "dav")})
	}
	return d.dav
}

// withDAV serves WebDAV under /dav/ (HTTP Basic auth: any user name, the
// API token or the 'peer passwd' password as password) and passes every
// other request to next.
func (d *Daemon) withDAV(next http.Handler) http.Handler {
	served := (&dav.Auth{Token: d.repo.Token, Dir: d.repo.Dir}).Wrap(d.davHandler())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isDAV(r) {
			served.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodOptions && r.URL.Path == "/" {
			// Windows' WebClient asks the server's root whether it
			// speaks WebDAV before it mounts /dav/.
			w.Header().Set("DAV", "1, 2")
			w.Header().Set("MS-Author-Via", "DAV")
			w.Header().Set("Allow", "OPTIONS")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// startLAN serves /dav/ and the web UI on lan.listen, when set, over TLS
// with the node's certificate and to the 'peer passwd' password only: the
// API token is not taken there, and the API only behind a web UI session
// (which that password opened).
func (d *Daemon) startLAN() error {
	addr := d.repo.Config.LAN.Listen
	if addr == "" {
		return nil
	}
	h, err := passwd.Read(d.repo.Dir)
	if err != nil {
		return err
	}
	if h == "" {
		return fmt.Errorf("failed to serve WebDAV to the LAN: lan.listen is %q but no password is set (run 'peer passwd' first, or set lan.listen = \"\" in %s)", addr, repo.ConfigFile)
	}
	cert, err := d.repo.TLS()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("failed to listen for WebDAV on the LAN at %s (change lan.listen in %s): %w", addr, repo.ConfigFile, err)
	}
	served := (&dav.Auth{Dir: d.repo.Dir}).Wrap(d.davHandler())
	var handler http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isDAV(r) {
			http.Error(w, "only WebDAV (at /dav/) and the web UI (at /) are served here", http.StatusNotFound)
			return
		}
		served.ServeHTTP(w, r)
	})
	check := &passwd.Checker{Dir: d.repo.Dir} // the password only, not the token
	if ui, err := webui.New(webui.Config{Check: check.Check, API: d.apiMux, Log: d.log.With("part", "webui", "on", "lan")}); err != nil {
		d.log.Warn("no web UI on the LAN", "err", err)
	} else {
		handler = serveUI(ui, handler)
	}
	d.lan = &http.Server{
		Handler:           handler,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelDebug),
	}
	d.lanAddr = ln.Addr().String()
	go func() {
		if err := d.lan.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			d.log.Warn("WebDAV on the LAN stopped", "err", err)
		}
	}()
	d.log.Info("serving WebDAV and the web UI to the LAN", "url", d.LANURL(), "ui", "https://"+d.lanAddr+"/", "fingerprint", repo.Fingerprint(cert.Certificate[0]))
	return nil
}

// LANURL returns the URL of WebDAV on the LAN, "" when lan.listen is off.
func (d *Daemon) LANURL() string {
	if d.lanAddr == "" {
		return ""
	}
	return "https://" + d.lanAddr + davPrefix + "/"
}

// stopLAN stops serving the LAN.
func (d *Daemon) stopLAN() error {
	if d.lan == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.lan.Shutdown(ctx); err != nil {
		d.lan.Close()
		return fmt.Errorf("failed to stop WebDAV on the LAN: %w", err)
	}
	return nil
}

// tlsStatus says where the LAN is served and the certificate's
// fingerprint, for 'peer status'.
func (d *Daemon) tlsStatus() (lanURL, fingerprint string) {
	if c, err := d.repo.TLS(); err == nil {
		fingerprint = repo.Fingerprint(c.Certificate[0])
	}
	return d.LANURL(), fingerprint
}
