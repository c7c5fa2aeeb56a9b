package vault

// shards.json: a folder of 1001 entries, one shard of leaves, and the
// leaf it collapses back to when one entry goes (SPEC.md, "Folders").

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

type shardVectors struct {
	Note      string         `json:"note"`
	Secret    string         `json:"secret"`
	Rand      string         `json:"rand"`
	Clock     string         `json:"clock"`
	Device    string         `json:"device"`
	Steps     []stepVector   `json:"steps"`
	Snapshots []string       `json:"snapshots"` // 1: /big sharded; 2: /big a leaf again
	Objects   []objectVector `json:"objects"`   // folder nodes without plain: open them with key
}

// shardNames is how many names /big gets: one more than a leaf holds.
const shardNames = leafMax + 1

func shardName(i int) string { return fmt.Sprintf("f%04d", i) }

func makeShards(t *testing.T) shardVectors {
	ctx := context.Background()
	acct := testAccount(t, 1)
	sv := shardVectors{Note: regenerate, Secret: hex.EncodeToString(acct.root[:]), Rand: "shards", Clock: scenarioStart.Format(time.RFC3339), Device: mergeDevices[0]}
	rnd := &countingReader{r: bytes.NewReader(testStream(sv.Rand, 1<<10))}
	clock := scenarioStart
	var readings []string
	tick := func() time.Time {
		clock = clock.Add(time.Second)
		readings = append(readings, clock.Format(time.RFC3339))
		return clock
	}
	read := 0
	step := func(do string) {
		st := stepVector{Do: do, Clock: readings}
		if rnd.n > read {
			st.Rand = fmt.Sprint(read, " ", rnd.n-read)
		}
		read, readings = rnd.n, nil
		sv.Steps = append(sv.Steps, st)
	}
	rec := newRecorder()
	v := New(acct, rec, WithRand(rnd), WithClock(tick), WithDevice(sv.Device), WithWorkers(1))
	tr, err := v.NewTree()
	if err != nil {
		t.Fatal(err)
	}
	step("make a tree (its root folder's key)")
	fv, err := v.WriteFile(ctx, bytes.NewReader([]byte("same\n")), FileInput{Name: shardName(0), Mode: 0o644, Mtime: 1767225600e9})
	if err != nil {
		t.Fatal(err)
	}
	step(fmt.Sprintf("write a version: name %q, %q, mode 0o644, mtime 1767225600000000000", shardName(0), "same\n"))
	for i := range shardNames {
		if err := tr.PutFile(ctx, "/big/"+shardName(i), fv); err != nil {
			t.Fatal(err)
		}
	}
	step(fmt.Sprintf("put that version at /big/%s, /big/%s, ... /big/%s (making /big)", shardName(0), shardName(1), shardName(shardNames-1)))
	s1, err := v.Commit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	step("commit snapshot 1 (no parents)")
	if _, err := tr.Remove(ctx, "/big/"+shardName(shardNames-1)); err != nil {
		t.Fatal(err)
	}
	step("remove /big/" + shardName(shardNames-1))
	s2, err := v.Commit(ctx, tr, s1)
	if err != nil {
		t.Fatal(err)
	}
	step("commit snapshot 2 (parent: snapshot 1)")
	sv.Snapshots = []string{s1.CID.String(), s2.CID.String()}

	keys := map[cid.Cid]objectVector{
		fv.links[0].Cid: {What: "the chunk", Type: "chunk", Key: hex.EncodeToString(fv.parts[0].Key), Plain: hex.EncodeToString([]byte("same\n"))},
		fv.CID:          {What: "the version", Type: "file", Key: hex.EncodeToString(fv.Key[:]), Label: adFile},
	}
	var walk func(d *dir, what string)
	walk = func(d *dir, what string) {
		if err := d.load(ctx); err != nil {
			t.Fatal(err)
		}
		keys[d.cid] = objectVector{What: what, Type: "dir", Key: hex.EncodeToString(d.key[:]), Label: adDir}
		d.own()
		for s, c := range d.slots {
			walk(c, fmt.Sprintf("%s, shard slot %d at depth %d", what, s, c.depth))
		}
		d.own()
		for _, e := range d.entries {
			if e.Kind == KindDir {
				walk(v.storedDir(e.CID, e.Key, "/"+e.Name), "folder /"+e.Name)
			}
		}
	}
	for _, s := range []*Snapshot{s1, s2} {
		keys[s.CID] = objectVector{What: fmt.Sprint("snapshot ", s.Seq), Type: "snap", Key: hex.EncodeToString(acct.index[:]), Label: adSnap}
		walk(v.storedDir(s.Tree, s.RootKey, "/"), "folder /")
	}
	for _, c := range rec.order {
		o, ok := keys[c]
		if !ok {
			t.Fatalf("block %s is in no object", c)
		}
		o.CID = c.String()
		data := rec.m[string(c.Hash())]
		if o.Type == "chunk" {
			o.Nonce = hex.EncodeToString(zeroNonce[:])
		} else {
			var n struct {
				Body []byte `cbor:"body"`
			}
			if err := peekMode.Unmarshal(data, &n); err != nil {
				t.Fatal(err)
			}
			o.AD = hex.EncodeToString(adOf(t, data, o.Label))
			o.Nonce = hex.EncodeToString(n.Body[:24])
			o.Block = hex.EncodeToString(data)
			if o.Type != "dir" {
				k := key32(t, o.Key)
				plain, err := openBody(&k, mustHex(t, o.AD), n.Body)
				if err != nil {
					t.Fatal(err)
				}
				o.Plain = hex.EncodeToString(plain)
			}
		}
		sv.Objects = append(sv.Objects, o)
	}
	return sv
}

// checkShards checks shards.json from its data alone: every object seals
// and hashes as it says, /big is a shard of leaves in snapshot 1 and a
// leaf in snapshot 2, each entry in the slot its keyed name hash gives.
func checkShards(t *testing.T, sv shardVectors) {
	ctx := context.Background()
	acct, _ := AccountFromSecret(mustHex(t, sv.Secret))
	mem := newMem()
	for _, o := range sv.Objects {
		if o.Type == "dir" {
			k := key32(t, o.Key)
			b := mustHex(t, o.Block)
			var n struct {
				Body []byte `cbor:"body"`
			}
			if err := peekMode.Unmarshal(b, &n); err != nil {
				t.Fatal(err)
			}
			plain, err := openBody(&k, adOf(t, b, o.Label), n.Body)
			if err != nil {
				t.Fatalf("%s: %v", o.What, err)
			}
			o.Plain = hex.EncodeToString(plain)
		}
		checkObject(t, acct, o)
		put(t, mem, o.CID, objectBytes(t, o))
	}
	v := New(acct, mem)
	for i, sc := range sv.Snapshots {
		s, err := v.OpenSnapshot(ctx, mustCIDOf(t, sc))
		if err != nil {
			t.Fatal(err)
		}
		tr := s.OpenTree(v)
		e, err := tr.Stat(ctx, "/big")
		if err != nil {
			t.Fatal(err)
		}
		top := v.storedDir(e.CID, e.Key, "/big")
		es, err := top.list(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := shardNames - i
		if len(es) != want || top.count != want || top.isShard() != (i == 0) {
			t.Fatalf("snapshot %d: /big holds %d entries (count %d), shard %v", i+1, len(es), top.count, top.isShard())
		}
		for j, e := range es {
			if e.Name != shardName(j) {
				t.Fatalf("snapshot %d: entry %d is %s", i+1, j, e.Name)
			}
		}
		if top.isShard() {
			sum := 0
			top.own()
			for s, c := range top.slots {
				if c.depth != 1 || c.isShard() {
					t.Fatalf("slot %d is not a leaf at depth 1", s)
				}
				c.own()
				for name := range c.entries {
					if int(blake3Keyed(e.Key[:], []byte(name))[0]) != s {
						t.Fatalf("%s is in slot %d", name, s)
					}
				}
				sum += c.count
			}
			if sum != top.count {
				t.Fatalf("the leaves hold %d entries, the shard counts %d", sum, top.count)
			}
		}
		f, _ := tr.Stat(ctx, "/big/"+shardName(want-1))
		fv, err := v.OpenFileWithKey(ctx, f.CID, f.Key, f.Name)
		var b bytes.Buffer
		if err != nil || v.ReadRange(ctx, fv, &b, 0, -1) != nil || b.String() != "same\n" {
			t.Fatalf("snapshot %d: %s does not read: %v", i+1, f.Name, err)
		}
	}
}

// TestShardDepthLimit: a leaf at depth 31 cannot split, and readers
// refuse a leaf of more than 1000 entries, so a writer fails rather than
// write one (SPEC.md, "Folders").
func TestShardDepthLimit(t *testing.T) {
	ctx := context.Background()
	v := New(testAccount(t, 1), newMem())
	d := v.newDir([32]byte{1}, "/deep")
	d.depth = maxShardDepth
	for i := range leafMax {
		d.entries[shardName(i)] = &entry{Entry: Entry{Name: shardName(i), Kind: KindFile}}
	}
	d.count = leafMax
	if _, err := d.put(ctx, &entry{Entry: Entry{Name: shardName(0), Kind: KindFile}}); err != nil {
		t.Fatalf("replacing an entry of a full deepest leaf: %v", err)
	}
	if _, err := d.put(ctx, &entry{Entry: Entry{Name: "one more", Kind: KindFile}}); err == nil || d.count != leafMax || d.isShard() {
		t.Fatalf("added a 1001st entry at depth 31 (err %v, count %d)", err, d.count)
	}
}
