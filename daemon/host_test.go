package daemon_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/peer-cloud/peer/api"
)

// TestAPIRefusesForeignHost: a web page whose name is made to resolve to
// 127.0.0.1 (DNS rebinding) reaches the API with its own name as Host;
// the API answers only loopback hosts and its own address, even with the
// right token.
func TestAPIRefusesForeignHost(t *testing.T) {
	r := loopbackRepo(t)
	d, c := startRepo(t, r)
	own := strings.TrimPrefix(d.APIURL(), "http://")
	_, port, _ := net.SplitHostPort(own)
	get := func(host string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, d.APIURL()+api.Version+"/id", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+r.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e api.Error
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Error
	}
	for _, host := range []string{"evil.example", "evil.example:" + port, "127.0.0.1.evil.example:" + port,
		"localhost.evil.example", "localhost.:" + port, "10.0.0.1:" + port, "0.0.0.0:" + port} {
		status, msg := get(host)
		if status != http.StatusForbidden || !strings.Contains(msg, "host") || !strings.Contains(msg, "127.0.0.1") {
			t.Errorf("Host %q: status %d, error %q; want 403 saying which hosts are accepted", host, status, msg)
		}
	}
	for _, host := range []string{own, "127.0.0.1", "127.0.0.1:" + port, "localhost:" + port, "LocalHost", "[::1]:" + port} {
		if status, msg := get(host); status != http.StatusOK {
			t.Errorf("Host %q: status %d (%s); want 200", host, status, msg)
		}
	}
	// HTTP/1.0 may leave Host out; a browser never does, but refuse it too.
	conn, err := net.Dial("tcp", own)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET " + api.Version + "/id HTTP/1.0\r\nAuthorization: Bearer " + r.Token + "\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("request without Host: status %d; want 403", resp.StatusCode)
	}
	// The CLI's client sends a Host the API accepts.
	if _, err := c.ID(context.Background()); err != nil {
		t.Fatal(err)
	}
}
