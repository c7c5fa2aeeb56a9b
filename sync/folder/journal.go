package folder

import (
	"encoding/binary"
	"fmt"
)

// Journal operations.
const (
	// opApply: a file or folder from the vault is being put in place on
	// disk (or removed, or moved here from From).
	opApply = 1
	// opScan: a change scanned from disk is being committed to the vault;
	// Seq is the head's sequence number before the commit.
	opScan = 2
)

// journal is a change to one path in flight: the disk (opApply) or the
// vault (opScan) goes from Before to After (nil: nothing there).
type journal struct {
	Op     byte
	Before *entry
	After  *entry
	// From is where a moved folder or file comes from (opApply).
	From string
	Seq  uint64
}

const journalVersion = 1

func marshalJournal(j journal) []byte {
	b := []byte{journalVersion, j.Op}
	for _, e := range []*entry{j.Before, j.After} {
		if e == nil {
			b = append(b, 0)
			continue
		}
		m := marshalEntry(*e)
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	b = binary.AppendUvarint(b, uint64(len(j.From)))
	b = append(b, j.From...)
	return binary.AppendUvarint(b, j.Seq)
}

// maxPath bounds a path in a journal record.
const maxPath = 64 << 10

func unmarshalJournal(b []byte) (journal, error) {
	var j journal
	r := reader{b: b}
	if v := r.byte(); v != journalVersion {
		return j, fmt.Errorf("%w: version %d", errBadJournal, v)
	}
	j.Op = r.byte()
	for _, dst := range []**entry{&j.Before, &j.After} {
		switch r.byte() {
		case 0:
		case 1:
			n := r.uvarint()
			if r.err != nil || n > uint64(len(r.b)) {
				return j, fmt.Errorf("%w: entry cut short", errBadJournal)
			}
			e, err := unmarshalEntry(r.b[:n])
			if err != nil {
				return j, fmt.Errorf("%w: %v", errBadJournal, err)
			}
			r.b = r.b[n:]
			*dst = &e
		default:
			return j, fmt.Errorf("%w: bad entry flag", errBadJournal)
		}
	}
	n := r.uvarint()
	if r.err == nil && (n > maxPath || n > uint64(len(r.b))) {
		return j, fmt.Errorf("%w: path cut short", errBadJournal)
	}
	if r.err == nil {
		j.From = string(r.b[:n])
		r.b = r.b[n:]
	}
	j.Seq = r.uvarint()
	if r.err != nil {
		return j, fmt.Errorf("%w: %v", errBadJournal, r.err)
	}
	if len(r.b) != 0 || (j.Op != opApply && j.Op != opScan) {
		return j, fmt.Errorf("%w: op %d, %d bytes too many", errBadJournal, j.Op, len(r.b))
	}
	return j, nil
}
