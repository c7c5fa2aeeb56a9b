package folder

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// IgnoreFile is the name of a folder's ignore file, at its top. It is
// this device's own: it is not synced (share rules through an
// #include of a file that is).
const IgnoreFile = ".peerignore"

// Ignore is a parsed .peerignore: Syncthing's .stignore syntax and
// semantics (see the package doc for what is supported).
type Ignore struct {
	rules  []ignoreRule
	hasNeg bool
}

type ignoreRule struct {
	re        *regexp.Regexp
	include   bool // "!": not ignored
	deletable bool // "(?d)": may be removed to remove its folder
}

// maxIncludeDepth bounds #include nesting.
const maxIncludeDepth = 16

// ParseIgnore parses an ignore file. include reads a file an #include
// line names (a path relative to the folder); nil refuses includes.
func ParseIgnore(data []byte, include func(rel string) ([]byte, error)) (*Ignore, error) {
	ig := &Ignore{}
	if err := ig.parse(data, "", include, 0, map[string]bool{}); err != nil {
		return nil, err
	}
	return ig, nil
}

// parse adds the rules of one file; dir is the folder (relative to the
// synced folder) the file is in, which its includes are relative to.
func (ig *Ignore) parse(data []byte, dir string, include func(string) ([]byte, error), depth int, seen map[string]bool) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "//"):
			continue
		case !utf8.ValidString(line):
			return fmt.Errorf("line %d of %s is not UTF-8", n, ignoreName(dir))
		case strings.HasPrefix(line, "#include"):
			name := strings.TrimSpace(strings.TrimPrefix(line, "#include"))
			if err := ig.include(name, dir, include, depth, seen); err != nil {
				return fmt.Errorf("line %d of %s: %w", n, ignoreName(dir), err)
			}
			continue
		case strings.HasPrefix(line, "#escape"):
			return fmt.Errorf("line %d of %s: #escape is not supported; \\ is the escape character", n, ignoreName(dir))
		}
		r, err := parseRule(line)
		if err != nil {
			return fmt.Errorf("line %d of %s: %w", n, ignoreName(dir), err)
		}
		ig.rules = append(ig.rules, r)
		ig.hasNeg = ig.hasNeg || r.include
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("failed to read %s: %w", ignoreName(dir), err)
	}
	return nil
}

func ignoreName(dir string) string {
	if dir == "" {
		return IgnoreFile
	}
	return dir
}

func (ig *Ignore) include(name, dir string, include func(string) ([]byte, error), depth int, seen map[string]bool) error {
	if name == "" {
		return fmt.Errorf("#include names no file")
	}
	if include == nil {
		return fmt.Errorf("#include is not allowed here")
	}
	rel := path.Clean(path.Join(path.Dir(dir), name))
	if strings.HasPrefix(name, "/") {
		rel = path.Clean(strings.TrimPrefix(name, "/"))
	}
	if err := checkRel(rel); err != nil {
		return fmt.Errorf("#include %s: %w", name, err)
	}
	if depth >= maxIncludeDepth || seen[rel] {
		return fmt.Errorf("#include %s: included files include each other", name)
	}
	data, err := include(rel)
	if err != nil {
		return fmt.Errorf("#include %s: %w", name, err)
	}
	seen[rel] = true
	defer delete(seen, rel)
	return ig.parse(data, rel, include, depth+1, seen)
}

// parseRule turns one pattern line into a rule.
func parseRule(line string) (ignoreRule, error) {
	var r ignoreRule
	fold := false
	for {
		switch {
		case strings.HasPrefix(line, "!"):
			r.include, line = true, line[1:]
			continue
		case strings.HasPrefix(line, "(?i)"):
			fold, line = true, line[4:]
			continue
		case strings.HasPrefix(line, "(?d)"):
			r.deletable, line = true, line[4:]
			continue
		}
		break
	}
	anchored := strings.HasPrefix(line, "/")
	line = strings.TrimPrefix(line, "/")
	line = strings.TrimSuffix(line, "/")
	if line == "" {
		return r, fmt.Errorf("empty pattern")
	}
	g, err := globRegexp(line)
	if err != nil {
		return r, err
	}
	// A pattern matches a path and everything below it; unanchored, at
	// any depth.
	expr := "^(?:" + g + ")(?:/.*)?$"
	if !anchored {
		expr = "^(?:.*/)?(?:" + g + ")(?:/.*)?$"
	}
	if fold {
		expr = "(?i)" + expr
	}
	if r.re, err = regexp.Compile(expr); err != nil {
		return r, fmt.Errorf("bad pattern %q: %w", line, err)
	}
	return r, nil
}

// globRegexp translates a glob: * (within a name), ** (across names), ?,
// [a-z] and [!a-z], {a,b}, and \ escaping the next character.
func globRegexp(g string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(g); {
		c := g[i]
		switch c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				b.WriteString(".*")
				i += 2
				for i < len(g) && g[i] == '*' {
					i++
				}
				continue
			}
			b.WriteString("[^/]*")
		case '?':
			b.WriteString("[^/]")
		case '\\':
			if i+1 >= len(g) {
				return "", fmt.Errorf("bad pattern %q: it ends in \\", g)
			}
			_, size := utf8.DecodeRuneInString(g[i+1:])
			b.WriteString(regexp.QuoteMeta(g[i+1 : i+1+size]))
			i += 1 + size
			continue
		case '[':
			end := classEnd(g, i)
			if end < 0 {
				b.WriteString(`\[`)
				break
			}
			b.WriteString(classRegexp(g[i+1 : end]))
			i = end + 1
			continue
		case '{':
			end, alts := braceAlts(g, i)
			if end < 0 {
				b.WriteString(`\{`)
				break
			}
			b.WriteString("(?:")
			for k, a := range alts {
				if k > 0 {
					b.WriteByte('|')
				}
				s, err := globRegexp(a)
				if err != nil {
					return "", err
				}
				b.WriteString(s)
			}
			b.WriteByte(')')
			i = end + 1
			continue
		default:
			_, size := utf8.DecodeRuneInString(g[i:])
			b.WriteString(regexp.QuoteMeta(g[i : i+size]))
			i += size
			continue
		}
		i++
	}
	return b.String(), nil
}

// classEnd finds the ] closing the class that opens at i, or -1.
func classEnd(g string, i int) int {
	j := i + 1
	if j < len(g) && (g[j] == '!' || g[j] == '^') {
		j++
	}
	if j < len(g) && g[j] == ']' {
		j++
	}
	for ; j < len(g); j++ {
		if g[j] == '\\' {
			j++
			continue
		}
		if g[j] == ']' {
			return j
		}
	}
	return -1
}

// classRegexp translates the inside of a [class].
func classRegexp(s string) string {
	var b strings.Builder
	b.WriteByte('[')
	if strings.HasPrefix(s, "!") || strings.HasPrefix(s, "^") {
		b.WriteByte('^')
		s = s[1:]
	}
	for i := 0; i < len(s); {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '-':
			b.WriteByte('-')
		case '\\', ']', '[', '^':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte(']')
	return b.String()
}

// braceAlts finds the } closing the group that opens at i and the
// alternatives in it (split at top-level commas), or -1.
func braceAlts(g string, i int) (int, []string) {
	depth, start := 0, i+1
	var alts []string
	for j := i; j < len(g); j++ {
		switch g[j] {
		case '\\':
			j++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j, append(alts, g[start:j])
			}
		case ',':
			if depth == 1 {
				alts = append(alts, g[start:j])
				start = j + 1
			}
		}
	}
	return -1, nil
}

// Match reports whether rel (a path relative to the folder, with /) is
// ignored: the first rule that matches decides. deletable says the
// rule allows removing it when its folder is removed.
func (ig *Ignore) Match(rel string) (ignored, deletable bool) {
	if ig == nil {
		return false, false
	}
	for _, r := range ig.rules {
		if r.re.MatchString(rel) {
			return !r.include, r.deletable
		}
	}
	return false, false
}

// SkipDir reports whether nothing below the ignored folder rel can be
// taken in, so the walk and the watcher may leave it out: true when no
// "!" rule exists that could take something back.
func (ig *Ignore) SkipDir(rel string) bool {
	if ig == nil {
		return false
	}
	ignored, _ := ig.Match(rel)
	return ignored && !ig.hasNeg
}
