package vault

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// MaxNameBytes is the longest name of a file or folder.
const MaxNameBytes = 255

// checkName accepts one path element: valid UTF-8, not empty, not "." or
// "..", no "/" or NUL, at most MaxNameBytes bytes.
func checkName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("invalid name %q: a name cannot be empty, \".\" or \"..\"", name)
	case len(name) > MaxNameBytes:
		return fmt.Errorf("invalid name %.40q...: longer than %d bytes", name, MaxNameBytes)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("invalid name %q: it contains / or NUL", name)
	case !utf8.ValidString(name):
		return fmt.Errorf("invalid name %q: not UTF-8", name)
	}
	return nil
}

// SplitPath turns an absolute vault path ("/a/b") into its names; "/" is
// none. It refuses relative paths and ".." rather than resolving them.
func SplitPath(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("invalid path %q: vault paths start with /", p)
	}
	if path.Clean(p) != p && p != "/" && path.Clean(p)+"/" != p {
		return nil, fmt.Errorf("invalid path %q: write it without //, . or .. parts", p)
	}
	var out []string
	for _, n := range strings.Split(strings.Trim(p, "/"), "/") {
		if n == "" {
			continue
		}
		if err := checkName(n); err != nil {
			return nil, fmt.Errorf("invalid path %q: %w", p, err)
		}
		out = append(out, n)
	}
	return out, nil
}
