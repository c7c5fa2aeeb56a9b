package link

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

func testURI(t testing.TB) URI {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPublicKey(pub)
	u := URI{Peer: id, Expires: time.Unix(1_900_000_000, 0)}
	rand.Read(u.Secret[:])
	for _, s := range []string{"/ip4/192.168.1.20/tcp/4010", "/ip6/fd00::1/udp/4010/quic-v1"} {
		u.Addrs = append(u.Addrs, ma.StringCast(s))
	}
	return u
}

func TestURIRoundTrip(t *testing.T) {
	u := testURI(t)
	s := u.String()
	if !strings.HasPrefix(s, Prefix) {
		t.Fatalf("URI %q", s)
	}
	// Every character fits a QR code's alphanumeric mode.
	for _, r := range s {
		if !strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", r) {
			t.Fatalf("URI %q has %q, not alphanumeric", s, r)
		}
	}
	t.Logf("URI of %d characters: %s", len(s), s)
	for _, in := range []string{s, strings.ToLower(s), "  " + s + "\n"} {
		got, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if got.String() != s || got.Peer != u.Peer || got.Secret != u.Secret || !got.Expires.Equal(u.Expires) || len(got.Addrs) != 2 {
			t.Fatalf("parsed %+v, want %+v", got, u)
		}
	}
}

func TestURIRefused(t *testing.T) {
	s := testURI(t).String()
	body := strings.TrimPrefix(s, Prefix)
	typo := []byte(body)
	if typo[10] == 'A' {
		typo[10] = 'B'
	} else {
		typo[10] = 'A'
	}
	for _, c := range []struct {
		in   string
		want error
	}{
		{"", ErrNotLink},
		{"https://example.org", ErrNotLink},
		{Prefix + string(typo), ErrDamaged},
		{s[:len(s)-1], ErrDamaged},
		{s + "A", ErrDamaged},
		{Prefix + "!!", ErrDamaged},
		{Prefix, ErrDamaged},
		{strings.Repeat("A", maxURI+1), ErrNotLink},
	} {
		if _, err := Parse(c.in); !errors.Is(err, c.want) {
			t.Errorf("Parse(%.40q): %v, want %v", c.in, err, c.want)
		}
	}
	if _, err := Parse("PEER-LINK:2:" + body); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("a version 2 link: %v", err)
	}
}

func TestURIFormatRefuses(t *testing.T) {
	u := testURI(t)
	for name, bad := range map[string]func(*URI){
		"no address":    func(u *URI) { u.Addrs = nil },
		"dns address":   func(u *URI) { u.Addrs = []ma.Multiaddr{ma.StringCast("/dns4/example.org/tcp/1")} },
		"port 0":        func(u *URI) { u.Addrs = []ma.Multiaddr{ma.StringCast("/ip4/10.0.0.1/tcp/0")} },
		"four":          func(u *URI) { u.Addrs = append(u.Addrs, u.Addrs...) },
		"no expiry":     func(u *URI) { u.Expires = time.Unix(0, 0) },
		"empty peer ID": func(u *URI) { u.Peer = "" },
	} {
		v := u
		v.Addrs = append([]ma.Multiaddr(nil), u.Addrs...)
		bad(&v)
		if _, err := v.format(); err == nil {
			t.Errorf("%s: formatted", name)
		}
	}
}

func TestLANAddrs(t *testing.T) {
	in := []ma.Multiaddr{
		ma.StringCast("/ip4/127.0.0.1/tcp/4010"),
		ma.StringCast("/ip4/0.0.0.0/tcp/4010"),
		ma.StringCast("/ip4/192.168.1.5/udp/4010/quic-v1"),
		ma.StringCast("/ip4/192.168.1.5/tcp/4010"),
		ma.StringCast("/ip6/fe80::1/tcp/4010"),
		ma.StringCast("/ip4/192.168.1.5/udp/4010/quic-v1/webtransport"),
	}
	got := LANAddrs(in)
	want := []string{"/ip4/192.168.1.5/tcp/4010", "/ip4/192.168.1.5/udp/4010/quic-v1"}
	if len(got) != len(want) || got[0].String() != want[0] || got[1].String() != want[1] {
		t.Fatalf("LANAddrs = %v, want %v", got, want)
	}
	if got := LANAddrs(in[:1]); len(got) != 1 {
		t.Fatalf("loopback only: %v", got)
	}
}

// FuzzParse: whatever parses formats back to the same URI, upper case
// and trimmed.
func FuzzParse(f *testing.F) {
	f.Add(testURI(f).String())
	f.Add(Prefix)
	f.Add("peer-link:1:aaaa")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			return
		}
		if got, want := u.String(), strings.ToUpper(strings.Trim(s, asciiSpace)); got != want {
			t.Fatalf("Parse(%q) formats as %q", s, got)
		}
		again, err := Parse(u.String())
		if err != nil || again.String() != u.String() {
			t.Fatalf("a formatted URI does not parse back: %v", err)
		}
	})
}
