package share_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/peer-cloud/peer/share"
	"github.com/peer-cloud/peer/vault"
)

// cborCID is a CID of the form the vault writes (CIDv1, dag-cbor,
// SHA-256) for data.
func cborCID(t testing.TB, data string) cid.Cid {
	t.Helper()
	c, err := cid.Prefix{Version: 1, Codec: cid.DagCBOR, MhType: multihash.SHA2_256, MhLength: -1}.Sum([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testAccount is the account of a fixed secret (seed repeated).
func testAccount(t testing.TB, seed byte) *vault.Account {
	t.Helper()
	a, err := vault.AccountFromSecret(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func fixedKey(b byte) (k [32]byte) {
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

// sameLink reports whether a and b are the same link (Wrapped compared
// by value).
func sameLink(a, b share.Link) bool {
	if !a.Target.Equals(b.Target) || a.Account != b.Account || a.Key != b.Key {
		return false
	}
	if (a.Wrapped == nil) != (b.Wrapped == nil) {
		return false
	}
	return a.Wrapped == nil || *a.Wrapped == *b.Wrapped
}

func TestLinkRoundTrip(t *testing.T) {
	acct, err := vault.NewAccount(bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	locked := share.Link{Target: cborCID(t, "locked"), Key: fixedKey(3)}
	if err := locked.Lock(bytes.NewReader(bytes.Repeat([]byte{0x5a}, 16)), "correct horse"); err != nil {
		t.Fatal(err)
	}
	lockedFollow := share.Link{Account: acct.PeerID(), Key: fixedKey(4)}
	if err := lockedFollow.Lock(bytes.NewReader(bytes.Repeat([]byte{0x5b}, 16)), "pw"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		l       share.Link
		pub     string
		follows bool
	}{
		{"version", share.Link{Target: cborCID(t, "version"), Key: fixedKey(1)}, cborCID(t, "version").String(), false},
		{"following", share.Link{Account: acct.PeerID(), Key: fixedKey(2)}, acct.ID(), true},
		{"locked version", locked, cborCID(t, "locked").String(), false},
		{"locked following", lockedFollow, acct.ID(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.l.String()
			if !strings.HasPrefix(s, share.Scheme+tc.pub+"#") {
				t.Fatalf("link %q does not begin with %q", s, share.Scheme+tc.pub+"#")
			}
			if !share.IsLink(s) {
				t.Fatalf("IsLink(%q) is false", s)
			}
			got, err := share.Parse(s)
			if err != nil {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			if !sameLink(got, tc.l) {
				t.Fatalf("Parse(%q) = %+v, want %+v", s, got, tc.l)
			}
			if got.Follows() != tc.follows || got.Locked() != (tc.l.Wrapped != nil) {
				t.Fatalf("Follows %v Locked %v", got.Follows(), got.Locked())
			}
			if again := got.String(); again != s {
				t.Fatalf("String after Parse = %q, want %q", again, s)
			}
			// Surrounding blanks, as a paste gives, are fine.
			if got, err := share.Parse("  " + s + "\n"); err != nil || !sameLink(got, tc.l) {
				t.Fatalf("Parse with blanks: %+v, %v", got, err)
			}
		})
	}
}

func TestParseWebForm(t *testing.T) {
	acct := testAccount(t, 1)
	for _, l := range []share.Link{
		{Target: cborCID(t, "web"), Key: fixedKey(7)},
		{Account: acct.PeerID(), Key: fixedKey(8)},
	} {
		text := l.String()
		_, frag, _ := strings.Cut(text, "#")
		pub := strings.TrimPrefix(strings.SplitN(text, "#", 2)[0], share.Scheme)
		for _, web := range []string{
			"http://host:5001/s/" + pub + "#" + frag,
			"https://peer.example/s/" + pub + "#" + frag,
			"http://192.168.1.2:5001/ui/s/" + pub + "#" + frag,
		} {
			if !share.IsLink(web) {
				t.Fatalf("IsLink(%q) is false", web)
			}
			got, err := share.Parse(web)
			if err != nil {
				t.Fatalf("Parse(%q): %v", web, err)
			}
			if !sameLink(got, l) {
				t.Fatalf("Parse(%q) = %+v, want %+v", web, got, l)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := share.Link{Target: cborCID(t, "x"), Key: fixedKey(1)}.String()
	pub, frag, _ := strings.Cut(strings.TrimPrefix(good, share.Scheme), "#")
	key := strings.TrimPrefix(frag, "k.")
	raw, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: multihash.SHA2_256, MhLength: -1}.Sum([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	sha512, err := cid.Prefix{Version: 1, Codec: cid.DagCBOR, MhType: multihash.SHA2_512, MhLength: -1}.Sum([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	short, err := cid.Prefix{Version: 1, Codec: cid.DagCBOR, MhType: multihash.SHA2_256, MhLength: 20}.Sum([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	v0, err := cid.Prefix{Version: 0, Codec: cid.DagProtobuf, MhType: multihash.SHA2_256, MhLength: -1}.Sum([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, text, want string
	}{
		{"no fragment", share.Scheme + pub, "has no key (the part after '#')"},
		{"empty fragment", share.Scheme + pub + "#", "has no key (the part after '#')"},
		{"key short by one byte", share.Scheme + pub + "#k." + key[:len(key)-1], "is 31 bytes, not 32"},
		{"key cut mid-byte", share.Scheme + pub + "#k." + key[:len(key)-2], "key is truncated or mistyped"},
		{"key empty", share.Scheme + pub + "#k.", "is 0 bytes, not 32"},
		{"key too long", share.Scheme + pub + "#k." + key + "AAAA", "is 35 bytes, not 32"},
		{"key not base64url", share.Scheme + pub + "#k." + key[:len(key)-1] + "+", "key is truncated or mistyped"},
		{"wrong prefix", share.Scheme + pub + "#x." + key, `begins with "x", not k. or p.`},
		{"no prefix", share.Scheme + pub + "#" + key, "not k. or p."},
		{"password part truncated", share.Scheme + pub + "#p." + key[:10], "password-wrapped key is truncated or mistyped"},
		{"bad CID", share.Scheme + "bafynotacid#" + frag, "is neither a version nor an account ID"},
		{"raw-codec CID", share.Scheme + raw.String() + "#" + frag, "is neither a version nor an account ID"},
		{"CIDv0", share.Scheme + v0.String() + "#" + frag, "is neither a version nor an account ID"},
		{"not SHA-256", share.Scheme + sha512.String() + "#" + frag, "is not one the vault writes"},
		{"SHA-256 cut to 20 bytes", share.Scheme + short.String() + "#" + frag, "is not one the vault writes"},
		{"web form, no fragment", "http://host:5001/s/" + pub, "not a share link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := share.Parse(tc.text)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tc.text)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse(%q): %q, want it to say %q", tc.text, err, tc.want)
			}
		})
	}
	if _, err := share.Parse("/docs/a.txt"); !errors.Is(err, share.ErrNotLink) {
		t.Fatalf("Parse of a path: %v, want ErrNotLink", err)
	}
}

func TestIsLink(t *testing.T) {
	for s, want := range map[string]bool{
		share.Scheme + "bafy#k.x":            true,
		share.Scheme:                         true, // a link, if a wrong one
		"http://host:5001/s/bafy#k.x":        true,
		"https://h/s/bafy#p.a.b":             true,
		"/docs/a#b":                          false,
		"/s/bafy#k.x":                        false,
		"docs/s/a#b":                         false,
		"":                                   false,
		"http://host:5001/s/bafy":            false, // no fragment
		"http://host:5001/ipfs/bafy#k.x":     false, // no /s/
		"ftp://host/s/bafy#k.x":              false,
		"peer://x/bafy#k.x":                  false,
		"bafybeigdyrzt5sfp7udm7hu76uh7y26nf": false,
	} {
		if got := share.IsLink(s); got != want {
			t.Errorf("IsLink(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestLockUnlock(t *testing.T) {
	salt := bytes.Repeat([]byte{0x11}, 16)
	key := fixedKey(0x40)
	lock := func(t *testing.T, password string) share.Link {
		t.Helper()
		l := share.Link{Target: cborCID(t, "locked"), Key: key}
		if err := l.Lock(bytes.NewReader(salt), password); err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := lock(t, "correct horse")
	if !l.Locked() || l.Key != ([32]byte{}) {
		t.Fatalf("a locked link keeps its key: %+v", l)
	}
	if !bytes.Equal(l.Wrapped.Salt[:], salt) {
		t.Fatalf("salt %x, want the reader's %x", l.Wrapped.Salt, salt)
	}
	// The same salt and password give the same link.
	if again := lock(t, "correct horse"); again.String() != l.String() {
		t.Fatalf("locking is not deterministic for a fixed salt: %s, %s", again, l)
	}
	if other := lock(t, "correct horsf"); other.String() == l.String() {
		t.Fatal("two passwords wrap the key the same")
	}

	t.Run("right password", func(t *testing.T) {
		p, err := share.Parse(l.String())
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Unlock("correct horse"); err != nil {
			t.Fatal(err)
		}
		if p.Key != key || p.Locked() {
			t.Fatalf("Unlock gave key %x (locked %v), want %x", p.Key, p.Locked(), key)
		}
		if p.String() != (share.Link{Target: cborCID(t, "locked"), Key: key}).String() {
			t.Fatalf("the unlocked link is %s", p)
		}
		// Unlocking an open link does nothing.
		if err := p.Unlock(""); err != nil || p.Key != key {
			t.Fatalf("Unlock of an open link: %v", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		p := l
		w := *l.Wrapped
		p.Wrapped = &w
		if err := p.Unlock("Correct horse"); !errors.Is(err, share.ErrWrongPassword) {
			t.Fatalf("Unlock with a wrong password: %v, want ErrWrongPassword", err)
		}
		if !p.Locked() || p.Key != ([32]byte{}) {
			t.Fatal("a failed Unlock changed the link")
		}
	})
	t.Run("damaged wrapping", func(t *testing.T) {
		p := l
		w := *l.Wrapped
		w.Sealed[0] ^= 1
		p.Wrapped = &w
		if err := p.Unlock("correct horse"); !errors.Is(err, share.ErrWrongPassword) {
			t.Fatalf("Unlock of a damaged wrapping: %v, want ErrWrongPassword", err)
		}
	})
	t.Run("empty password", func(t *testing.T) {
		o := share.Link{Target: cborCID(t, "locked"), Key: key}
		if err := o.Lock(bytes.NewReader(salt), ""); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Fatalf("Lock with an empty password: %v", err)
		}
		if o.Locked() || o.Key != key {
			t.Fatal("a refused Lock changed the link")
		}
		p := l
		if err := p.Unlock(""); err == nil || !strings.Contains(err.Error(), "needs a password") {
			t.Fatalf("Unlock with an empty password: %v", err)
		}
	})
	t.Run("short salt reader", func(t *testing.T) {
		o := share.Link{Target: cborCID(t, "locked"), Key: key}
		if err := o.Lock(bytes.NewReader(salt[:3]), "pw"); err == nil || !strings.Contains(err.Error(), "salt") {
			t.Fatalf("Lock with 3 bytes of salt: %v", err)
		}
	})
}
