package daemon

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/peer-cloud/peer/api"
)

// httpError is an error with the status it should be answered with.
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func badRequest(err error) error { return &httpError{http.StatusBadRequest, err} }
func notFound(err error) error   { return &httpError{http.StatusNotFound, err} }

// handler is an API handler that returns an error instead of writing it.
type handler func(w http.ResponseWriter, r *http.Request) error

func (d *Daemon) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h handler) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+api.Version+path, d.serve(h))
	}
	handle("GET /id", d.handleID)
	handle("GET /peers", d.handlePeers)
	handle("POST /ipfs/add", d.handleAdd)
	handle("GET /ipfs/stat/{cid}", d.handleStat)
	handle("GET /ipfs/cat/{cid}", d.handleCat)
	handle("GET /ipfs/get/{cid}", d.handleGet)
	handle("POST /pin/add/{cid}", d.handlePinAdd)
	handle("POST /pin/rm/{cid}", d.handlePinRm)
	handle("GET /pin/ls", d.handlePinLs)
	handle("POST /ipfs/car/import", d.handleCARImport)
	handle("GET /stats/bitswap", d.handleBitswapStat)
	handle("GET /repo/stat", d.handleRepoStat)
	handle("POST /repo/gc", d.handleRepoGC)
	handle("GET /repo/verify", d.handleRepoVerify)
	handle("GET /account", d.handleAccount)
	handle("GET /status", d.handleStatus)
	handle("GET /name/resolve/{account}", d.handleResolve)
	handle("GET /name/ls/{account}", d.handlePublicLs)
	handle("GET /name/cat/{account}", d.handlePublicCat)
	handle("GET /name/get/{account}", d.handlePublicGet)
	handle("POST /publish", d.handlePublish)
	handle("POST /unpublish", d.handleUnpublish)
	handle("POST /vault/add", d.handleVaultAdd)
	handle("GET /vault/ls", d.handleVaultLs)
	handle("GET /vault/cat", d.handleVaultCat)
	handle("GET /vault/get", d.handleVaultGet)
	handle("POST /vault/mkdir", d.handleVaultMkdir)
	handle("POST /vault/mv", d.handleVaultMv)
	handle("POST /vault/rm", d.handleVaultRm)
	handle("GET /vault/history", d.handleVaultHistory)
	handle("POST /vault/restore", d.handleVaultRestore)
	handle("POST /share", d.handleShare)
	handle("POST /unshare", d.handleUnshare)
	handle("GET /shares", d.handleShares)
	handle("POST /links/stat", d.handleLinkStat)
	handle("POST /links/cat", d.handleLinkCat)
	handle("POST /links/ls", d.handleLinkLs)
	handle("POST /links/get", d.handleLinkGet)
	handle("GET /shared", d.handleShared)
	handle("GET /contacts", d.handleContacts)
	handle("POST /contacts/add", d.handleContactAdd)
	handle("POST /contacts/rm", d.handleContactRm)
	handle("POST /link", d.handleLinkOffer)
	handle("GET /link/{id}", d.handleLinkWait)
	handle("POST /link/{id}/confirm", d.handleLinkConfirm)
	handle("DELETE /link/{id}", d.handleLinkCancel)
	handle("GET /devices", d.handleDevices)
	handle("POST /devices/remove", d.handleDeviceRemove)
	handle("POST /sync/add", d.handleSyncAdd)
	handle("GET /sync/ls", d.handleSyncLs)
	handle("POST /sync/rm", d.handleSyncRm)
	handle("GET /sync/status", d.handleSyncStatus)
	handle("GET /donor", d.handleDonorStatus)
	handle("POST /donor/serve", d.handleDonorServe)
	handle("POST /donor/stop", d.handleDonorStop)
	handle("POST /donor/pinning-token", d.handlePinningToken)
	handle("GET /donor/pinning-tokens", d.handlePinningTokens)
	handle("POST /donor/pinning-token/revoke", d.handlePinningRevoke)
	handle("GET /replicas", d.handleReplicas)
	handle("GET /replicas/services", d.handleRemotePinList)
	handle("POST /replicas/services/add", d.handleRemotePinAdd)
	handle("POST /replicas/services/rm", d.handleRemotePinRm)
	mux.Handle("GET /metrics", d.metricsHandler())
	d.apiMux = mux
	return d.checkHost(d.withGateway(d.withDAV(d.withWebUI(mux, d.auth(mux)))))
}

// checkHost refuses requests addressed to any host but a loopback one or
// the API's own address, before the token is looked at. A web page whose
// name is made to resolve to 127.0.0.1 (DNS rebinding) reaches the API
// with that name as Host.
func (d *Daemon) checkHost(next http.Handler) http.Handler {
	own := d.ln.Addr().String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != own && !loopbackHost(r.Host) {
			writeJSON(w, http.StatusForbidden, api.Error{Error: fmt.Sprintf(
				"refused a request for host %q: the API answers only requests addressed to 127.0.0.1, [::1], localhost or %s (so a web page cannot reach it by pointing its name at this machine)", r.Host, own)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names a loopback IP or
// localhost, with or without a port.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	} else if strings.Contains(host, ":") {
		return false // an IPv6 address must be in brackets
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// auth refuses requests without the repo's token.
func (d *Daemon) auth(next http.Handler) http.Handler {
	want := []byte("Bearer " + d.repo.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			writeJSON(w, http.StatusUnauthorized, api.Error{Error: "missing or wrong API token: send 'Authorization: Bearer TOKEN' with the token from the repo's api.token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (d *Daemon) serve(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		status := http.StatusInternalServerError
		var he *httpError
		if errors.As(err, &he) {
			status = he.status
		}
		if r.Context().Err() != nil {
			return // the client went away
		}
		d.log.Log(r.Context(), slog.LevelDebug, "request failed", "path", r.URL.Path, "err", err)
		writeJSON(w, status, api.Error{Error: err.Error()})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}
