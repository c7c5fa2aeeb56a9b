package main

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// escape makes s safe to show on a terminal: control characters (C0, DEL,
// C1), bidirectional controls (U+202E and its kin, which reorder what
// follows), line and paragraph separators and invalid UTF-8 become Go
// escapes (\x1b, \n, \u202e, \xff); the rest is left as it is. Vault
// names may hold any of these, and so may errors and peers' answers.
// Every human output goes through it; --json prints exact names.
func escape(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports runes that change how a terminal shows what follows.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) ||
		r == '\u2028' || r == '\u2029'
}
