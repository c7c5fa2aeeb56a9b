package vault

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
)

// Chunk size bounds of the content-defined chunker (SPEC.md, "Chunking").
// Sealed chunks (plaintext + 16) stay far below Bitswap's 2 MiB block limit.
const (
	ChunkMin = 128 << 10
	ChunkAvg = 256 << 10
	ChunkMax = 1 << 20
)

// gear is the chunker's table: gear[i] is the first 8 bytes, big endian, of
// SHA-256("peer/v1 gear" || i).
var gear = func() (t [256]uint64) {
	for i := range t {
		h := sha256.Sum256(append([]byte("peer/v1 gear"), byte(i)))
		t[i] = binary.BigEndian.Uint64(h[:8])
	}
	return t
}()

// The cut masks test the top bits of the rolling hash (which depend on the
// last 64 bytes): one more bit before the average size, one fewer after
// (FastCDC's normalized chunking, level 1), so sizes gather around the
// average. Level 2 cut tighter but resynchronised worse after an edit:
// a 1 MiB edit re-stored 5.4 MiB at the 95th percentile, against 2.4 MiB
// here (bench/README.md).
var (
	avgBits = bits.Len(uint(ChunkAvg)) - 1
	shiftS  = 64 - (avgBits + 1)
	shiftL  = 64 - (avgBits - 1)
)

// cut returns the length of the first chunk of data; data holds every byte
// up to ChunkMax past the chunk's start, or the rest of the stream
// when data holds fewer than ChunkMax bytes (the stream's end).
func cut(data []byte) int {
	n := len(data)
	if n <= ChunkMin {
		return n
	}
	if n > ChunkMax {
		n = ChunkMax
	}
	normal := ChunkAvg
	if n < normal {
		normal = n
	}
	var h uint64
	i := ChunkMin
	for ; i < normal; i++ {
		h = h<<1 + gear[data[i]]
		if h>>shiftS == 0 {
			return i + 1
		}
	}
	for ; i < n; i++ {
		h = h<<1 + gear[data[i]]
		if h>>shiftL == 0 {
			return i + 1
		}
	}
	return n
}

// chunker splits a stream into content-defined chunks.
type chunker struct {
	r   io.Reader
	buf []byte // unread data is buf[off:end]
	off int
	end int
	eof bool
}

func newChunker(r io.Reader) *chunker {
	return &chunker{r: r, buf: make([]byte, 4*ChunkMax)}
}

// next returns the next chunk, copied into buf (which needs ChunkMax+16
// bytes of capacity, so it can be sealed in place), or io.EOF after the
// last.
func (c *chunker) next(buf []byte) ([]byte, error) {
	for !c.eof && c.end-c.off < ChunkMax {
		if c.off > 0 && c.end == len(c.buf) {
			c.end = copy(c.buf, c.buf[c.off:c.end])
			c.off = 0
		}
		n, err := c.r.Read(c.buf[c.end:])
		c.end += n
		if errors.Is(err, io.EOF) {
			c.eof = true
		} else if err != nil {
			return nil, err
		}
	}
	if c.off == c.end {
		return nil, io.EOF
	}
	n := cut(c.buf[c.off:c.end])
	out := buf[:n]
	copy(out, c.buf[c.off:c.off+n])
	c.off += n
	return out, nil
}
