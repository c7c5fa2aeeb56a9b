package share_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/peer-cloud/peer/share"
)

// FuzzParse feeds any text to Parse, as a user's paste or a web address
// gives it: errors are fine, panics are not, and a link Parse takes
// reads back from its String as the same link.
func FuzzParse(f *testing.F) {
	acct := testAccount(f, 1)
	version := share.Link{Target: cborCID(f, "fuzz"), Key: fixedKey(1)}
	follow := share.Link{Account: acct.PeerID(), Key: fixedKey(2)}
	locked := share.Link{Target: cborCID(f, "fuzz"), Key: fixedKey(3)}
	if err := locked.Lock(bytes.NewReader(bytes.Repeat([]byte{7}, 16)), "pw"); err != nil {
		f.Fatal(err)
	}
	for _, l := range []share.Link{version, follow, locked} {
		s := l.String()
		f.Add(s)
		f.Add("http://host:5001/s/" + strings.TrimPrefix(s, share.Scheme))
		f.Add(s[:len(s)-5])
	}
	for _, s := range []string{"", "peer://s/", "peer://s/#", "peer://s/x#k.", "https://h/s/#p..", "/docs/a#b", "http://a/s/s/s/#k.AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := share.Parse(s)
		if err != nil {
			if l != (share.Link{}) {
				t.Fatalf("Parse(%q) failed (%v) but returned %+v", s, err, l)
			}
			return
		}
		if !share.IsLink(strings.TrimSpace(s)) {
			t.Fatalf("Parse(%q) took a text IsLink refuses", s)
		}
		if l.Follows() == l.Target.Defined() {
			t.Fatalf("Parse(%q) gave a link that both or neither follows and names a version: %+v", s, l)
		}
		text := l.String()
		again, err := share.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, whose text %q does not parse: %v", s, l, text, err)
		}
		if !sameLink(again, l) {
			t.Fatalf("Parse(%q) = %+v, but Parse(%q) = %+v", s, l, text, again)
		}
		if again.String() != text {
			t.Fatalf("String is not stable: %q, then %q", text, again.String())
		}
	})
}
