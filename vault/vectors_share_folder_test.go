package vault

// share_folder.json: the shared copy of a folder (SPEC.md section 17.1,
// "Folders") and the share node of a link to it as it is now (17.2,
// "version"), with each copy key derived on the way.

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"
)

type folderShareVectors struct {
	Note        string         `json:"note"`
	Secret      string         `json:"secret"` // the account's
	ShareSecret string         `json:"share_secret"`
	Folder      string         `json:"folder"` // the path shared
	Blocks      []blockVector  `json:"blocks"` // the vault's: chunks, file nodes, dir nodes
	Folders     []folderCopy   `json:"folders"`
	Share       folderShareRow `json:"share"`
}

// folderCopy is one folder of the shared one and its copy.
type folderCopy struct {
	Path    string   `json:"path"`     // inside the shared folder
	CID     string   `json:"cid"`      // the folder's own top node
	Key     string   `json:"key"`      // the folder's own key
	Info    string   `json:"info"`     // HKDF info: "peer/v1 share dir" || 0x00 || CID bytes
	CopyKey string   `json:"copy_key"` // HKDF(share secret, "", info)
	CopyCID string   `json:"copy_cid"`
	Copy    string   `json:"copy_block"`
	Names   []string `json:"names"` // what the copy lists
}

type folderShareRow struct {
	CID       string `json:"cid"`
	Block     string `json:"block"`
	BodyPlain string `json:"body_plain"` // DAG-CBOR, kind "dir"
}

func makeFolderShareVectors(t *testing.T) folderShareVectors {
	ctx := context.Background()
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i + 1)
	}
	acct, err := AccountFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	var shareSecret [32]byte
	copy(shareSecret[:], testStream("folder share secret", 32))
	fv := folderShareVectors{Note: regenerate, Secret: hex.EncodeToString(secret), ShareSecret: hex.EncodeToString(shareSecret[:]), Folder: "/docs"}
	rec := newRecorder()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := New(acct, rec, WithRand(bytes.NewReader(testStream("share folder", 1<<12))), WithClock(func() time.Time { return clock }), WithDevice(mergeDevices[0]), WithWorkers(1))
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ p, content string }{{"/docs/a.txt", "a\n"}, {"/docs/sub/b.txt", "b\n"}} {
		file, err := v.WriteFile(ctx, bytes.NewReader([]byte(f.content)), FileInput{Name: f.p[len(f.p)-5:], Mode: 0o644, Mtime: clock.UnixNano()})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.PutFile(ctx, f.p, file); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Commit(ctx, tr); err != nil {
		t.Fatal(err)
	}
	fv.Blocks = rec.since(0)
	n := len(rec.order)
	docs, _ := tr.Stat(ctx, "/docs")
	cp, err := v.CopyFolder(ctx, shareSecret, docs.CID, docs.Key, "/docs", nil)
	if err != nil {
		t.Fatal(err)
	}
	copies := map[string]blockVector{}
	for _, b := range rec.since(n) {
		copies[b.CID] = b
	}
	for _, p := range []string{"/docs", "/docs/sub"} {
		e, _ := tr.Stat(ctx, p)
		info := "peer/v1 share dir\x00" + string(e.CID.Bytes())
		k := shareDirKey(shareSecret, e.CID)
		c := cp.CID
		if p != "/docs" {
			sub, err := v.OpenTree(cp.CID, cp.Key).Stat(ctx, "/sub")
			if err != nil {
				t.Fatal(err)
			}
			c = sub.CID
		}
		es, err := v.OpenTree(c, k).List(ctx, "/")
		if err != nil {
			t.Fatal(err)
		}
		fv.Folders = append(fv.Folders, folderCopy{Path: p, CID: e.CID.String(), Key: hex.EncodeToString(e.Key[:]), Info: hex.EncodeToString([]byte(info)),
			CopyKey: hex.EncodeToString(k[:]), CopyCID: c.String(), Copy: copies[c.String()].Block, Names: names(es)})
	}
	cp.Name = "docs"
	s := FollowShare{Secret: shareSecret, Path: "/docs", Made: clock.UnixNano(), Version: cp.CID, VersionKey: cp.Key}
	sc, err := v.WriteShare(ctx, s, &cp)
	if err != nil {
		t.Fatal(err)
	}
	block := rec.m[string(sc.Hash())]
	var node shareNode
	if err := unmarshal(block, &node); err != nil {
		t.Fatal(err)
	}
	key := shareKey(shareSecret)
	ad, err := nodeAD(adShare, node)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := openBody(&key, ad, node.Body)
	if err != nil {
		t.Fatal(err)
	}
	fv.Share = folderShareRow{CID: sc.String(), Block: hex.EncodeToString(block), BodyPlain: hex.EncodeToString(plain)}
	return fv
}

// checkFolderShareVectors checks share_folder.json from its data alone:
// the copy keys from the formula, each copy opened with its key alone and
// not with the folder's, and the share node giving the copy.
func checkFolderShareVectors(t *testing.T, fv folderShareVectors) {
	ctx := context.Background()
	mem := storeOf(t, fv.Blocks)
	for _, f := range fv.Folders {
		put(t, mem, f.CopyCID, mustHex(t, f.Copy))
	}
	put(t, mem, fv.Share.CID, mustHex(t, fv.Share.Block))
	shareSecret := key32(t, fv.ShareSecret)
	reader := New(testAccount(t, 9), mem) // a link's holder, of another account
	for i, f := range fv.Folders {
		c := mustCIDOf(t, f.CID)
		if want := append([]byte("peer/v1 share dir\x00"), c.Bytes()...); !bytes.Equal(want, mustHex(t, f.Info)) {
			t.Fatalf("%s: info is not the label, 0x00 and the CID's bytes", f.Path)
		}
		k, err := hkdf.Key(sha256.New, shareSecret[:], nil, string(mustHex(t, f.Info)), 32)
		if err != nil || hex.EncodeToString(k) != f.CopyKey {
			t.Fatalf("%s: the copy key is not HKDF(share secret, \"\", info)", f.Path)
		}
		es, err := reader.OpenTree(mustCIDOf(t, f.CopyCID), key32(t, f.CopyKey)).List(ctx, "/")
		if err != nil || fmt.Sprint(names(es)) != fmt.Sprint(f.Names) {
			t.Fatalf("%s: the copy lists %v, %v; want %v", f.Path, names(es), err, f.Names)
		}
		own, err := reader.OpenTree(c, key32(t, f.Key)).List(ctx, "/")
		if err != nil {
			t.Fatal(err)
		}
		for j, e := range es {
			switch {
			case e.Kind == KindFile && (e.CID != own[j].CID || e.Key != own[j].Key):
				t.Fatalf("%s/%s: a file entry of the copy is not the folder's", f.Path, e.Name)
			case e.Kind == KindDir && (e.CID.String() != fv.Folders[i+1].CopyCID || hex.EncodeToString(e.Key[:]) != fv.Folders[i+1].CopyKey):
				t.Fatalf("%s/%s: a folder entry of the copy is not the subfolder's copy", f.Path, e.Name)
			}
		}
		if _, err := reader.OpenTree(mustCIDOf(t, f.CopyCID), key32(t, f.Key)).List(ctx, "/"); err == nil {
			t.Fatalf("%s: the folder's own key opens the copy", f.Path)
		}
	}
	sf, err := ReadShare(ctx, mem, mustCIDOf(t, fv.Share.CID), shareSecret)
	if err != nil {
		t.Fatal(err)
	}
	if sf.Kind != KindDir || sf.CID.String() != fv.Folders[0].CopyCID || hex.EncodeToString(sf.Key[:]) != fv.Folders[0].CopyKey {
		t.Fatalf("the share node gives %+v, not the copy", sf)
	}
	var body map[string]any
	if err := unmarshal(mustHex(t, fv.Share.BodyPlain), &body); err != nil || body["kind"] != "dir" {
		t.Fatalf("body_plain: %v, %v", body, err)
	}
}

// TestVectorsShareFolder makes share_folder.json again and compares, then
// checks the stored file (-update rewrites it).
func TestVectorsShareFolder(t *testing.T) {
	var fv folderShareVectors
	decodeJSON(t, writeOrCompare(t, "share_folder.json", makeFolderShareVectors(t)), &fv)
	checkFolderShareVectors(t, fv)
}
