package repo

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files of the node's TLS certificate, which serves WebDAV to the LAN
// (lan.listen): self-signed, ECDSA P-256, 825 days (the longest Apple
// clients take), made by Init and made again when it nears its end.
const (
	TLSCertFile = "tls.crt"
	TLSKeyFile  = "tls.key" // mode 0600
)

// tlsRenewBefore is how long before it expires the certificate is made
// anew.
const tlsRenewBefore = 30 * 24 * time.Hour

// TLS returns the node's TLS certificate, making one if there is none or
// it nears its end (its fingerprint then changes).
func (r *Repo) TLS() (tls.Certificate, error) {
	certPath, keyPath := filepath.Join(r.Dir, TLSCertFile), filepath.Join(r.Dir, TLSKeyFile)
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	switch {
	case err == nil && c.Leaf != nil && time.Now().Add(tlsRenewBefore).Before(c.Leaf.NotAfter):
		return c, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return tls.Certificate{}, fmt.Errorf("failed to read %s (remove %s and %s to make a new one): %w", TLSCertFile, TLSCertFile, TLSKeyFile, err)
	}
	if err := r.makeTLS(); err != nil {
		return tls.Certificate{}, err
	}
	c, err = tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("failed to read %s: %w", TLSCertFile, err)
	}
	return c, nil
}

// makeTLS writes a new self-signed certificate for this node.
func (r *Repo) makeTLS() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("failed to make a TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return fmt.Errorf("failed to make a TLS certificate: %w", err)
	}
	id := r.PeerID().String()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "peer " + id[max(0, len(id)-8):], Organization: []string{"peer"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(825 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, h, h+".local")
	}
	// The LAN addresses this machine has now; clients that check names
	// should pin the fingerprint instead, as addresses change.
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, n.IP)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("failed to make a TLS certificate: %w", err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("failed to encode the TLS key: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(r.Dir, TLSKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(r.Dir, TLSCertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// Fingerprint returns the SHA-256 of a certificate (DER), as browsers
// and openssl x509 -fingerprint -sha256 show it: colon-separated hex.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
