package share

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/vault"
)

// Scheme is how a link's text begins (SPEC.md section 17.1).
const Scheme = "peer://s/"

// Link is a capability to read: the version Target opens with Key, or,
// for a following link, the share of account Account that Key (then the
// share's secret) finds. With a password, Key is absent and Wrapped holds
// it until Unlock.
type Link struct {
	Target  cid.Cid // a version: a file node or a folder's top node; undefined for a following link
	Account peer.ID // a following link's account; "" for a version's
	Key     [32]byte
	Wrapped *Wrapped // non-nil: the key is wrapped by a password
}

// Follows reports whether the link follows a path rather than naming one
// version.
func (l Link) Follows() bool { return l.Account != "" }

// Locked reports whether the link needs a password before it opens.
func (l Link) Locked() bool { return l.Wrapped != nil }

var b64 = base64.RawURLEncoding

// String is the link's text: Scheme, the public part, then the secret in
// a URL fragment, which browsers never send.
func (l Link) String() string {
	var pub string
	if l.Follows() {
		pub = vault.AccountID(l.Account)
	} else {
		pub = l.Target.String()
	}
	var frag string
	if l.Wrapped != nil {
		frag = "p." + b64.EncodeToString(l.Wrapped.Salt[:]) + "." + b64.EncodeToString(l.Wrapped.Sealed[:])
	} else {
		frag = "k." + b64.EncodeToString(l.Key[:])
	}
	return Scheme + pub + "#" + frag
}

// ErrNotLink says a text is not a link at all (so a caller can take it as
// a path instead).
var ErrNotLink = errors.New("not a share link")

// IsLink reports whether s looks like a link (Scheme, or a web address
// with "/s/" and a fragment), right or wrong, rather than a vault path.
func IsLink(s string) bool {
	if strings.HasPrefix(s, Scheme) {
		return true
	}
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return false
	}
	return strings.Contains(s, "/s/") && strings.Contains(s, "#")
}

// Parse reads a link: its text as String gives it, or a web address of
// any host whose path ends in /s/PUBLIC with the same fragment (the form
// the web UI opens).
func Parse(s string) (Link, error) {
	s = strings.TrimSpace(s)
	var rest string
	switch {
	case strings.HasPrefix(s, Scheme):
		rest = s[len(Scheme):]
	case IsLink(s):
		i := strings.LastIndex(s, "/s/")
		rest = s[i+3:]
	default:
		return Link{}, ErrNotLink
	}
	pub, frag, ok := strings.Cut(rest, "#")
	if !ok || frag == "" {
		return Link{}, errors.New("the link has no key (the part after '#'): copy the whole link")
	}
	var l Link
	c, err := cid.Decode(pub)
	if err != nil {
		return Link{}, fmt.Errorf("the link's %q is neither a version nor an account ID (copy the whole link): %w", pub, err)
	}
	switch c.Prefix().Codec {
	case cid.Libp2pKey:
		if l.Account, err = vault.ParseAccountID(pub); err != nil {
			return Link{}, fmt.Errorf("the link's account ID is not valid: %w", err)
		}
	case cid.DagCBOR:
		if err := vault.CheckCID(c); err != nil {
			return Link{}, fmt.Errorf("the link's version %s is not one the vault writes: %w", pub, err)
		}
		l.Target = c
	default:
		return Link{}, fmt.Errorf("the link's %s is neither a version nor an account ID", pub)
	}
	kind, body, _ := strings.Cut(frag, ".")
	switch kind {
	case "k":
		k, err := b64.DecodeString(body)
		if err != nil || len(k) != 32 {
			return Link{}, truncated(len(k), err)
		}
		copy(l.Key[:], k)
	case "p":
		salt, sealed, _ := strings.Cut(body, ".")
		s1, err1 := b64.DecodeString(salt)
		s2, err2 := b64.DecodeString(sealed)
		if err1 != nil || err2 != nil || len(s1) != saltSize || len(s2) != sealedSize {
			return Link{}, errors.New("the link's password-wrapped key is truncated or mistyped: copy the whole link")
		}
		l.Wrapped = &Wrapped{}
		copy(l.Wrapped.Salt[:], s1)
		copy(l.Wrapped.Sealed[:], s2)
	default:
		return Link{}, fmt.Errorf("the link's key begins with %q, not k. or p.: copy the whole link", kind)
	}
	return l, nil
}

func truncated(n int, err error) error {
	if err != nil {
		return fmt.Errorf("the link's key is truncated or mistyped (copy the whole link): %w", err)
	}
	return fmt.Errorf("the link's key is %d bytes, not 32: the link is truncated or mistyped, copy the whole link", n)
}
