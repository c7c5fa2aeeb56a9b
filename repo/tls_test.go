package repo

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestTLSCertMadeAtInit: Init makes the node's certificate (key 0600),
// TLS loads that same one, and it is for serving, on loopback too.
func TestTLSCertMadeAtInit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Network.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Network.MDNS = false
	r, err := Init(t.TempDir(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(r.Dir, TLSKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v; want mode 0600", st, err)
	}
	a, err := r.TLS()
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.TLS()
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(a.Certificate[0]) != Fingerprint(b.Certificate[0]) {
		t.Fatal("the certificate changed between two loads")
	}
	if len(Fingerprint(a.Certificate[0])) != 32*3-1 {
		t.Fatalf("fingerprint %q", Fingerprint(a.Certificate[0]))
	}
	leaf := a.Leaf
	if leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || !leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("certificate for %v %v", leaf.ExtKeyUsage, leaf.IPAddresses)
	}
	// A repo from before certificates gets one on first use.
	os.Remove(filepath.Join(r.Dir, TLSCertFile))
	os.Remove(filepath.Join(r.Dir, TLSKeyFile))
	c, err := r.TLS()
	if err != nil || Fingerprint(c.Certificate[0]) == Fingerprint(a.Certificate[0]) {
		t.Fatalf("after removing the files: %v", err)
	}
}
