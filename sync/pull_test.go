package sync

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
)

// TestPullRefusesStrangers: a peer that is no device of the account gets
// nothing from a pull, not even a block it names exactly.
func TestPullRefusesStrangers(t *testing.T) {
	a := startDevice(t, nil)
	a.add(t, "secret.txt", 100)
	h := newHostile(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.Host.NewStream(ctx, a.node.Host().ID(), pullProtocol)
	if err != nil {
		t.Fatal(err)
	}
	head, err := cid.Decode(a.headOf(t))
	if err != nil {
		t.Fatal(err)
	}
	// A certificate of another device of the account, which is not
	// the stranger's own: it proves nothing.
	cert := a.acct.Cert()
	s.Write(append(binary.AppendUvarint(nil, uint64(len(cert))), cert...))
	if err := writeCIDs(s, []cid.Cid{head}); err != nil {
		t.Fatal(err)
	}
	s.CloseWrite()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(s)
	if len(got) > 0 {
		t.Fatalf("a stranger's pull got %d bytes", len(got))
	}
	if err == nil {
		t.Fatal("a stranger's pull ended cleanly; want it reset")
	}
}

// TestPullFraming: blocks and CID lists round-trip, and a block whose
// data does not match its CID, a CID the vault does not write, and
// lengths past the bounds are refused.
func TestPullFraming(t *testing.T) {
	good := rawBlock(t, []byte("hello"))
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := writeBlock(w, good); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	b, err := readBlock(bufio.NewReader(bytes.NewReader(buf.Bytes())))
	if err != nil || !b.Cid().Equals(good.Cid()) || !bytes.Equal(b.RawData(), good.RawData()) {
		t.Fatalf("block read back as %v, %v", b, err)
	}
	if _, err := readBlock(bufio.NewReader(bytes.NewReader(nil))); !errors.Is(err, io.EOF) {
		t.Fatalf("an empty reply read as %v; want io.EOF", err)
	}
	forged, _ := blocks.NewBlockWithCid([]byte("other"), good.Cid())
	buf.Reset()
	w.Reset(&buf)
	writeBlock(w, forged)
	w.Flush()
	if _, err := readBlock(bufio.NewReader(bytes.NewReader(buf.Bytes()))); err == nil {
		t.Fatal("a block not matching its CID was read")
	}
	for i := range buf.Len() {
		if _, err := readBlock(bufio.NewReader(bytes.NewReader(buf.Bytes()[:i]))); err == nil {
			t.Fatalf("a reply cut at byte %d was read", i)
		}
	}
	buf.Reset()
	if err := writeCIDs(&buf, []cid.Cid{good.Cid(), good.Cid()}); err != nil {
		t.Fatal(err)
	}
	cs, err := readCIDs(bufio.NewReader(bytes.NewReader(buf.Bytes())), 2)
	if err != nil || len(cs) != 2 || !cs[1].Equals(good.Cid()) {
		t.Fatalf("CIDs read back as %v, %v", cs, err)
	}
	if _, err := readCIDs(bufio.NewReader(bytes.NewReader(buf.Bytes())), 1); err == nil {
		t.Fatal("a request of more CIDs than allowed was read")
	}
}

// FuzzPullReply: any bytes a device sends as a pull reply are read as
// blocks matching their CIDs, or refused, never a panic.
func FuzzPullReply(f *testing.F) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeBlock(w, rawBlock(f, []byte("seed")))
	w.Flush()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for range 64 {
			b, err := readBlock(r)
			if err != nil {
				return
			}
			if got, err := b.Cid().Prefix().Sum(b.RawData()); err != nil || !got.Equals(b.Cid()) {
				t.Fatalf("read a block %s whose data does not match", b.Cid())
			}
		}
	})
}
