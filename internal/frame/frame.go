// Package frame writes and reads one message on a stream: its length as
// a uvarint, then its bytes (the framing of peer's own stream protocols,
// SPEC.md sections 14.1, 14.2 and 17.4).
package frame

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Write writes b as one frame.
func Write(w io.Writer, b []byte) error {
	_, err := w.Write(append(binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(b)), uint64(len(b))), b...))
	return err
}

// Read reads one frame of at most limit bytes (a longer one is an error,
// and nothing past the limit is read).
func Read(r io.Reader, limit int) ([]byte, error) {
	br := bufio.NewReader(io.LimitReader(r, int64(limit)+binary.MaxVarintLen64))
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, fmt.Errorf("failed to read a message's length: %w", err)
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("a message of %d bytes, more than %d", n, limit)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, fmt.Errorf("failed to read a message: %w", err)
	}
	return b, nil
}
