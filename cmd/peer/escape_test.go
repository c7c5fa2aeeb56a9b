package main

import "testing"

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain.txt", "plain.txt"},
		{"été 日本 🎉 a\\b \"q\"", "été 日本 🎉 a\\b \"q\""},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"\x1b]0;title\x07", `\x1b]0;title\a`},
		{"new\nline\rtab\tend", `new\nline\rtab\tend`},
		{"del\x7f", `del\x7f`},
		{"c1 \u0085 \u009b", `c1 \u0085 \u009b`},
		{"invoice\u202efdp.exe", `invoice\u202efdp.exe`},
		{"\u2066isolate\u2069 \u200e\u200f\u061c", `\u2066isolate\u2069 \u200e\u200f\u061c`},
		{"line\u2028sep\u2029", `line\u2028sep\u2029`},
		{"bad\xffutf8\xc3", `bad\xffutf8\xc3`},
		{"\x00nul", `\x00nul`},
	} {
		if got := escape(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
