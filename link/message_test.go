package link

import (
	"bytes"
	"testing"
)

func TestMessageRoundTrip(t *testing.T) {
	nonce := bytes.Repeat([]byte{7}, NonceSize)
	mac := bytes.Repeat([]byte{9}, macSize)
	for _, m := range []*message{
		{Type: typeHello, Nonce: nonce, Name: "laptop"},
		{Type: typeChallenge, Nonce: nonce},
		{Type: typeProof, MAC: mac},
		{Type: typeAccept, MAC: mac},
		{Type: typeWelcome, Sealed: []byte{1, 2, 3}},
		{Type: typeDone},
		{Type: typeRefuse, Code: codeUsed, Reason: "used"},
	} {
		var buf bytes.Buffer
		if err := writeMessage(&buf, m); err != nil {
			t.Fatal(err)
		}
		got, err := readMessage(&buf)
		if err != nil || got.Type != m.Type {
			t.Fatalf("%s: %+v, %v", m.Type, got, err)
		}
	}
	for _, bad := range []*message{
		{Type: typeHello, Nonce: nonce},                // no name
		{Type: typeHello, Nonce: nonce[:8], Name: "x"}, // short nonce
		{Type: typeHello, Nonce: nonce, Name: "a\nb"},  // control character
		{Type: typeProof, MAC: mac, Name: "x"},         // a field of another type
		{Type: typeDone, Reason: "x"},                  // reason outside a refusal
		{Type: "hi"},                                   // unknown type
		{Type: typeHello, Nonce: nonce, Name: string(bytes.Repeat([]byte{'a'}, MaxNameBytes+1))},
	} {
		if err := writeMessage(&bytes.Buffer{}, bad); err == nil {
			t.Errorf("%+v was sent", bad)
		}
	}
	for _, frame := range [][]byte{{0, 0}, {0xff, 0xff}, {0, 1, 0xa0}} {
		if _, err := readMessage(bytes.NewReader(frame)); err == nil {
			t.Errorf("frame %x was read", frame)
		}
	}
}

// FuzzDecodeMessage: what decodes encodes back to the same bytes and
// holds exactly its type's fields.
func FuzzDecodeMessage(f *testing.F) {
	nonce := bytes.Repeat([]byte{7}, NonceSize)
	for _, m := range []*message{
		{Type: typeHello, Nonce: nonce, Name: "laptop"},
		{Type: typeRefuse, Code: codeUsed, Reason: "used"},
		{Type: typeDone},
	} {
		b, _ := encMode.Marshal(m)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		again, err := encMode.Marshal(m)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("decoded %x encodes as %x", b, again)
		}
		if err := m.check(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzOpenWelcome: a welcome body is decoded strictly.
func FuzzOpenWelcome(f *testing.F) {
	b, _ := encMode.Marshal(welcomeBody{Secret: make([]byte, 32), Cert: []byte{1}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var w welcomeBody
		if strictUnmarshal(b, &w) != nil {
			return
		}
		again, _ := encMode.Marshal(w)
		if !bytes.Equal(again, b) {
			t.Fatalf("decoded %x encodes as %x", b, again)
		}
	})
}
