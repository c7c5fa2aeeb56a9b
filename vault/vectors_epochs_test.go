package vault

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// epochVectors is testdata/vectors/epochs.json (SPEC.md, "Key epochs").
type epochVectors struct {
	Comment    string `json:"comment"`
	RootSecret string `json:"root_secret"`
	N          uint64 `json:"n"`
	Secret     string `json:"secret"`
	ID         string `json:"id"`
	BoxPublic  string `json:"box_public"`
	Index      string `json:"index_key"`
	Chunk      string `json:"chunk_secret"`
	File       string `json:"file_secret"`
	Dir        string `json:"dir_secret"`
	FolderKey  string `json:"folder_key"`
	DirKey     string `json:"dir_key"`
	Hash       string `json:"content_hash"`
	FileID     string `json:"file_id"`
	FileKey    string `json:"file_key"`
	Recovery   string `json:"recovery_key"`
	// A device (Ed25519 seed) and its X25519 form.
	DeviceSeed   string `json:"device_seed"`
	Device       string `json:"device"`
	DeviceX25519 string `json:"device_x25519_public"`
	// The keys record of the epoch for that device, made by it, with
	// ephemeral keys from test stream Rand; Older holds epoch 1 of
	// OlderSecret.
	Rand        string `json:"rand"`
	OlderSecret string `json:"older_secret"`
	Record      string `json:"keys_record"`
}

func makeEpochVectors(t *testing.T) epochVectors {
	root := make([]byte, 32)
	for i := range root {
		root[i] = byte(i + 1)
	}
	acct, err := AccountFromSecret(root)
	if err != nil {
		t.Fatal(err)
	}
	var older, cur Epoch
	older.N, cur.N = 1, 2
	copy(older.Secret[:], testStream("epoch 1", 32))
	copy(cur.Secret[:], testStream("epoch 2", 32))
	if _, err := acct.AddEpochs(older, cur); err != nil {
		t.Fatal(err)
	}
	k := acct.cur()
	folder := [32]byte(bytes.Repeat([]byte{0x42}, 32))
	hash := [32]byte(bytes.Repeat([]byte{0x33}, 32))
	kid := k.fileID(hash)
	fk := k.fileKey(kid)
	dk := k.dirKey(&folder)
	seed := bytes.Repeat([]byte{7}, 32)
	sk, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := peer.IDFromPrivateKey(sk)
	xpub, err := deviceBoxPublic(dev)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := acct.NewKeysRecord(bytes.NewReader(testStream("keys rand", 32)), sk, []peer.ID{dev})
	if err != nil {
		t.Fatal(err)
	}
	x := hex.EncodeToString
	return epochVectors{
		Comment:    regenerate,
		RootSecret: x(root), N: cur.N, Secret: x(cur.Secret[:]), ID: x(k.id[:]), BoxPublic: x(k.boxPub[:]),
		Index: x(k.index[:]), Chunk: x(k.chunk[:]), File: x(k.file[:]), Dir: x(k.dir[:]),
		FolderKey: x(folder[:]), DirKey: x(dk[:]), Hash: x(hash[:]), FileID: x(kid), FileKey: x(fk[:]),
		Recovery:   cur.RecoveryKey(),
		DeviceSeed: x(seed), Device: dev.String(), DeviceX25519: x(xpub[:]),
		Rand: "keys rand", OlderSecret: x(older.Secret[:]), Record: x(rec),
	}
}

// checkEpochVectors reads the stored file as a second implementation
// would: the record opens for the device's key and gives both epochs.
func checkEpochVectors(t *testing.T, v epochVectors) {
	un := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	acct, err := AccountFromSecret(un(v.RootSecret))
	if err != nil {
		t.Fatal(err)
	}
	sk, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(un(v.DeviceSeed)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseKeysRecord(un(v.Record))
	if err != nil {
		t.Fatal(err)
	}
	es, err := acct.OpenKeysRecord(r, sk)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].N != v.N || hex.EncodeToString(es[0].Secret[:]) != v.Secret || es[1].N != 1 || hex.EncodeToString(es[1].Secret[:]) != v.OlderSecret {
		t.Fatalf("the stored record opens to %v", es)
	}
	if e, err := ParseRecoveryKey(v.Recovery); err != nil || e != es[0] {
		t.Fatalf("the stored recovery key reads as %v, %v", e, err)
	}
}

func TestVectorsEpochs(t *testing.T) {
	var v epochVectors
	decodeJSON(t, writeOrCompare(t, "epochs.json", makeEpochVectors(t)), &v)
	checkEpochVectors(t, v)
}
