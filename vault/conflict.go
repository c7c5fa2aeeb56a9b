package vault

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// conflictMark starts the suffix of a conflict copy's name.
const conflictMark = ".sync-conflict-"

// conflictName names the losing file of a conflict after its version's
// time and device, as Syncthing does: STEM.sync-conflict-YYYYMMDD-HHMMSS-
// DEVICE.EXT, with a counter if that is taken too (SPEC.md, "Merging").
// The name stays within MaxNameBytes by cutting the stem at a character
// boundary, never the suffix; every name it returns passes checkName.
func (v *Vault) conflictName(ctx context.Context, e *entry, taken func(string) bool) (string, error) {
	var at int64
	dev := "unknown"
	if e.Kind == KindFile {
		fv, err := v.OpenFileWithKey(ctx, e.CID, e.Key, e.Name)
		if err != nil {
			return "", err
		}
		at = fv.Time
		dev = conflictDevice(fv.Device)
	}
	stamp := time.Unix(0, at).UTC().Format("20060102-150405")
	for i := 1; ; i++ {
		suffix := conflictMark + stamp + "-" + dev
		if i > 1 {
			suffix += fmt.Sprintf("-%d", i)
		}
		name := fitConflict(e.Name, suffix)
		if checkName(name) != nil {
			// Not reached for names the tree holds; never write one it
			// would refuse.
			name = strings.TrimPrefix(suffix, ".")
		}
		if !taken(name) {
			return name, nil
		}
	}
}

// conflictDevice is the last 7 characters of a device's peer ID, or
// "unknown" when the device is not named by 7 ASCII letters or digits
// there.
func conflictDevice(d string) string {
	if len(d) < 7 {
		return "unknown"
	}
	d = d[len(d)-7:]
	for _, c := range []byte(d) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return "unknown"
		}
	}
	return d
}

// fitConflict puts suffix between name's stem and its extension, cutting
// the stem at a character boundary so the result has at most MaxNameBytes
// bytes. An extension too long to leave room for one byte of stem is
// taken as part of the stem.
func fitConflict(name, suffix string) string {
	ext := path.Ext(name)
	if ext == name || len(ext)+len(suffix) >= MaxNameBytes {
		ext = "" // ".bashrc" has no extension
	}
	stem := strings.TrimSuffix(name, ext)
	return cutRunes(stem, MaxNameBytes-len(suffix)-len(ext)) + suffix + ext
}

// cutRunes returns the longest prefix of s of at most n bytes that ends at
// a character boundary.
func cutRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
