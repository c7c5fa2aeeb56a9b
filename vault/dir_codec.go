package vault

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// Folder bodies are most of what a change writes and a reader checks, and
// the generic encoder's reflection was most of their cost (a 1000-entry
// folder took milliseconds to open). dirBody therefore encodes and decodes
// itself, by hand, to exactly the bytes the generic encoder writes (DAG-
// CBOR, keys sorted length first, integers and lengths in shortest form)
// and accepting only those: TestDirBodyCodec and FuzzDirBody hold it to
// the generic path.

// MarshalCBOR encodes the body as the generic encoder would.
func (b dirBody) MarshalCBOR() ([]byte, error) {
	out := make([]byte, 0, 40+len(b.Slots)*2+len(b.Entries)*(80+32))
	out = appendHead(out, 5, 4)
	out = appendText(out, "count")
	out = appendHead(out, 0, b.Count)
	out = appendText(out, "depth")
	out = appendInt(out, int64(b.Depth))
	out = appendText(out, "slots")
	out = appendHead(out, 4, uint64(len(b.Slots)))
	for _, s := range b.Slots {
		out = appendInt(out, int64(s))
	}
	out = appendText(out, "entries")
	out = appendHead(out, 4, uint64(len(b.Entries)))
	for _, e := range b.Entries {
		out = appendHead(out, 5, 6)
		out = appendText(out, "key")
		out = appendHead(out, 2, uint64(len(e.Key)))
		out = append(out, e.Key...)
		out = appendText(out, "kind")
		out = appendText(out, e.Kind)
		out = appendText(out, "mode")
		out = appendHead(out, 0, uint64(e.Mode))
		out = appendText(out, "name")
		out = appendText(out, e.Name)
		out = appendText(out, "size")
		out = appendHead(out, 0, e.Size)
		out = appendText(out, "mtime")
		out = appendInt(out, e.Mtime)
	}
	return out, nil
}

// UnmarshalCBOR decodes a body in exactly the encoding MarshalCBOR
// writes; anything else (another key order, a missing or extra key, a
// length or integer not in shortest form, invalid UTF-8, an integer out of
// its field's range) is an error.
func (b *dirBody) UnmarshalCBOR(data []byte) error { return b.decodeStrict(data) }

func (b *dirBody) decodeStrict(data []byte) error {
	r := cborReader{b: data}
	var out dirBody
	r.mapOf(4)
	r.key("count")
	out.Count = r.uint(math.MaxUint64)
	r.key("depth")
	out.Depth = int(r.int())
	r.key("slots")
	if n := r.array(); n > 0 {
		out.Slots = make([]int, n)
		for i := range out.Slots {
			out.Slots[i] = int(r.int())
		}
	}
	r.key("entries")
	if n := r.array(); n > 0 {
		out.Entries = make([]dirEntry, n)
		for i := range out.Entries {
			e := &out.Entries[i]
			r.mapOf(6)
			r.key("key")
			e.Key = r.bytes()
			r.key("kind")
			e.Kind = r.kind()
			r.key("mode")
			e.Mode = uint32(r.uint(math.MaxUint32))
			r.key("name")
			e.Name = r.text()
			r.key("size")
			e.Size = r.uint(math.MaxUint64)
			r.key("mtime")
			e.Mtime = r.int()
		}
	}
	if r.err == nil && r.off != len(data) {
		r.err = fmt.Errorf("%d bytes after the folder body", len(data)-r.off)
	}
	if r.err != nil {
		return fmt.Errorf("failed to decode folder body: %w", r.err)
	}
	*b = out
	return nil
}

func appendText(b []byte, s string) []byte {
	return append(appendHead(b, 3, uint64(len(s))), s...)
}

func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		return appendHead(b, 1, uint64(-(n + 1)))
	}
	return appendHead(b, 0, uint64(n))
}

// cborReader reads the strict CBOR the vault writes, remembering the
// first error; after one, every read returns zero values.
type cborReader struct {
	b   []byte
	off int
	err error
}

func (r *cborReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// head reads an item's head: its major type and argument, which must be
// in shortest form and definite.
func (r *cborReader) head() (major byte, arg uint64) {
	if r.err != nil {
		return 0, 0
	}
	if r.off >= len(r.b) {
		r.fail("truncated at byte %d", r.off)
		return 0, 0
	}
	c := r.b[r.off]
	major, ai := c>>5, c&0x1f
	r.off++
	switch {
	case ai < 24:
		return major, uint64(ai)
	case ai <= 27:
		size := 1 << (ai - 24)
		if len(r.b)-r.off < size {
			r.fail("truncated at byte %d", r.off)
			return 0, 0
		}
		for _, x := range r.b[r.off : r.off+size] {
			arg = arg<<8 | uint64(x)
		}
		r.off += size
		if min := [...]uint64{24, 1 << 8, 1 << 16, 1 << 32}[ai-24]; arg < min {
			r.fail("argument %d at byte %d not in shortest form", arg, r.off-size-1)
			return 0, 0
		}
		return major, arg
	}
	r.fail("indefinite length or reserved value at byte %d", r.off-1)
	return 0, 0
}

// want reads a head of the given major type.
func (r *cborReader) want(major byte, what string) uint64 {
	m, arg := r.head()
	if r.err == nil && m != major {
		r.fail("%s expected at byte %d, found major type %d", what, r.off, m)
		return 0
	}
	return arg
}

func (r *cborReader) uint(max uint64) uint64 {
	n := r.want(0, "an unsigned integer")
	if n > max {
		r.fail("integer %d out of range", n)
		return 0
	}
	return n
}

// int reads a signed integer that fits in an int64.
func (r *cborReader) int() int64 {
	m, arg := r.head()
	switch {
	case r.err != nil:
		return 0
	case (m == 0 || m == 1) && arg > math.MaxInt64:
		r.fail("integer out of range")
		return 0
	case m == 0:
		return int64(arg)
	case m == 1:
		return -1 - int64(arg)
	}
	r.fail("an integer expected, found major type %d", m)
	return 0
}

// span reads n bytes of content.
func (r *cborReader) span(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("truncated at byte %d", r.off)
		return nil
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *cborReader) text() string {
	s := r.span(r.want(3, "a text string"))
	if r.err == nil && !utf8.Valid(s) {
		r.fail("invalid UTF-8 in a text string")
		return ""
	}
	return string(s)
}

func (r *cborReader) bytes() []byte {
	s := r.span(r.want(2, "a byte string"))
	if r.err != nil {
		return nil
	}
	return append([]byte{}, s...)
}

// array reads an array's head; its items follow.
func (r *cborReader) array() int {
	n := r.want(4, "an array")
	// Each item takes a byte at least; the generic decoder's bound too.
	if r.err == nil && (n > uint64(len(r.b)-r.off) || n > 1<<20) {
		r.fail("array of %d items in %d bytes", n, len(r.b)-r.off)
		return 0
	}
	return int(n)
}

// mapOf reads the head of a map that must have n pairs.
func (r *cborReader) mapOf(n uint64) {
	if got := r.want(5, "a map"); r.err == nil && got != n {
		r.fail("map of %d keys, want %d", got, n)
	}
}

// key reads a map key that must be want.
func (r *cborReader) key(want string) {
	if got := r.span(r.want(3, "a text string")); r.err == nil && string(got) != want {
		r.fail("key %q where %q belongs", got, want)
	}
}

// kind reads an entry's kind, without allocating for the two known ones.
func (r *cborReader) kind() string {
	s := r.span(r.want(3, "a text string"))
	switch {
	case r.err != nil:
		return ""
	case string(s) == string(KindFile):
		return string(KindFile)
	case string(s) == string(KindDir):
		return string(KindDir)
	case !utf8.Valid(s):
		r.fail("invalid UTF-8 in a text string")
		return ""
	}
	return string(s)
}
