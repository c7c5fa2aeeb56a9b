package vault

import "fmt"

// Folder nodes, like their bodies (dir_codec.go), encode and decode
// themselves by hand to exactly the generic encoder's bytes: a leaf links
// to up to 1000 entries, and the generic path's reflection and its
// re-encoding to check the bytes cost each change a millisecond to write,
// read and walk. TestDirNodeCodec and FuzzDirNode hold it to the generic
// path.

// MarshalCBOR encodes the node as the generic encoder would.
func (n dirNode) MarshalCBOR() ([]byte, error) {
	out := make([]byte, 0, 32+len(n.Body)+len(n.Links)*40)
	out = appendHead(out, 5, 4)
	out = appendText(out, "v")
	out = appendInt(out, int64(n.V))
	out = appendText(out, "body")
	out = appendHead(out, 2, uint64(len(n.Body)))
	out = append(out, n.Body...)
	out = appendText(out, "type")
	out = appendText(out, n.Type)
	out = appendText(out, "links")
	out = appendHead(out, 4, uint64(len(n.Links)))
	for _, l := range n.Links {
		b, err := l.MarshalCBOR()
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// UnmarshalCBOR decodes a node in exactly the encoding MarshalCBOR
// writes, and refuses anything else.
func (n *dirNode) UnmarshalCBOR(data []byte) error { return n.decodeStrict(data) }

func (n *dirNode) decodeStrict(data []byte) error {
	r := cborReader{b: data}
	var out dirNode
	r.mapOf(4)
	r.key("v")
	out.V = int(r.int())
	r.key("body")
	out.Body = r.bytes()
	r.key("type")
	out.Type = r.text()
	r.key("links")
	if k := r.array(); k > 0 {
		out.Links = make([]Link, k)
		for i := range out.Links {
			out.Links[i] = r.link()
		}
	}
	if r.err == nil && r.off != len(data) {
		r.err = fmt.Errorf("%d bytes after the folder node", len(data)-r.off)
	}
	if r.err != nil {
		return fmt.Errorf("failed to decode folder node: %w", r.err)
	}
	*n = out
	return nil
}

// link reads a DAG-CBOR link (tag 42), as Link.UnmarshalCBOR does.
func (r *cborReader) link() Link {
	start := r.off
	if tag := r.want(6, "a tag"); r.err == nil && tag != linkTag {
		r.fail("tag %d at byte %d, want %d (a link)", tag, start, linkTag)
	}
	r.span(r.want(2, "a byte string"))
	if r.err != nil {
		return Link{}
	}
	var l Link
	if err := l.UnmarshalCBOR(r.b[start:r.off]); err != nil {
		r.fail("at byte %d: %v", start, err)
	}
	return l
}
