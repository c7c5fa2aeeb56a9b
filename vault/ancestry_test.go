package vault

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// ancestors returns every snapshot reachable from c, c included. The slow,
// obvious way, to check the walks against.
func (v *Vault) ancestors(ctx context.Context, c cid.Cid) (map[cid.Cid]*Snapshot, error) {
	s, err := v.OpenSnapshot(ctx, c)
	if err != nil {
		return nil, err
	}
	out := map[cid.Cid]*Snapshot{c: s}
	stack := []*Snapshot{s}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range x.Parents {
			if out[p] != nil {
				continue
			}
			ps, err := v.openParent(ctx, x, p)
			if err != nil {
				return nil, err
			}
			out[p] = ps
			stack = append(stack, ps)
		}
	}
	return out, nil
}

// randomHistory commits n snapshots, each following one or two (now and
// then three) of the earlier ones, and some with no parent at all.
func randomHistory(t *testing.T, v *Vault, rng *rand.Rand, n int) []*Snapshot {
	t.Helper()
	ctx := context.Background()
	var all []*Snapshot
	for i := range n {
		tr, err := v.NewTree()
		if err != nil {
			t.Fatal(err)
		}
		var parents []*Snapshot
		if i > 0 && rng.IntN(20) != 0 {
			k := 1 + rng.IntN(2)
			if rng.IntN(10) == 0 {
				k = 3
			}
			for range k {
				// Mostly recent snapshots, as devices merge what is new.
				p := all[max(0, len(all)-1-rng.IntN(min(len(all), 6)))]
				if !slices.Contains(parents, p) {
					parents = append(parents, p)
				}
			}
		}
		s, err := v.Commit(ctx, tr, parents...)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	return all
}

// mergeBasesByDefinition computes the best common ancestors from whole
// ancestor sets: the slow, obviously right way.
func mergeBasesByDefinition(t *testing.T, v *Vault, a, b *Snapshot) []*Snapshot {
	ctx := context.Background()
	as, err := v.ancestors(ctx, a.CID)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := v.ancestors(ctx, b.CID)
	if err != nil {
		t.Fatal(err)
	}
	var out []*Snapshot
	for c, s := range as {
		if bs[c] == nil {
			continue
		}
		best := true
		for d := range as {
			if bs[d] == nil || d == c {
				continue
			}
			ds, err := v.ancestors(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if ds[c] != nil {
				best = false
				break
			}
		}
		if best {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(x, y *Snapshot) int { return strings.Compare(x.CID.KeyString(), y.CID.KeyString()) })
	return out
}

// TestAncestryRandom checks IsAncestor and MergeBases against their
// definitions on random histories with criss-cross merges.
func TestAncestryRandom(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 7))
		clock := time.Unix(1000, 0)
		v := New(testAccount(t, 1), newMem(), WithDevice("12D3KooWdeviceAAAAAAA"), WithClock(func() time.Time { clock = clock.Add(time.Second); return clock }))
		all := randomHistory(t, v, rng, 40)
		for range 60 {
			a, b := all[rng.IntN(len(all))], all[rng.IntN(len(all))]
			as, err := v.ancestors(ctx, b.CID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.IsAncestor(ctx, a.CID, b.CID)
			if err != nil {
				t.Fatal(err)
			}
			if want := as[a.CID] != nil; got != want {
				t.Fatalf("seed %d: IsAncestor(%d, %d) = %v, want %v", seed, a.Seq, b.Seq, got, want)
			}
			bases, err := v.MergeBases(ctx, a, b)
			if err != nil {
				t.Fatal(err)
			}
			want := mergeBasesByDefinition(t, v, a, b)
			if !slices.EqualFunc(bases, want, func(x, y *Snapshot) bool { return x.CID.Equals(y.CID) }) {
				t.Fatalf("seed %d: MergeBases(seq %d, seq %d) = %v, want %v", seed, a.Seq, b.Seq, seqs(bases), seqs(want))
			}
		}
	}
}

func seqs(ss []*Snapshot) []uint64 {
	var out []uint64
	for _, s := range ss {
		out = append(out, s.Seq)
	}
	return out
}

// countingBlocks counts reads, to show what a walk costs.
type countingBlocks struct {
	*memBlocks
	gets int
}

func (c *countingBlocks) Get(ctx context.Context, k cid.Cid) ([]byte, error) {
	c.gets++
	return c.memBlocks.Get(ctx, k)
}

// TestAncestryCost: on a long history, asking whether the head follows a
// recent snapshot, or for the base of two recent branches, reads the
// recent snapshots only.
func TestAncestryCost(t *testing.T) {
	ctx := context.Background()
	cb := &countingBlocks{memBlocks: newMem()}
	clock := time.Unix(1000, 0)
	v := New(testAccount(t, 1), cb, WithDevice("12D3KooWdeviceAAAAAAA"), WithClock(func() time.Time { clock = clock.Add(time.Second); return clock }))
	tr, _ := v.NewTree()
	var head *Snapshot
	for range 500 {
		var ps []*Snapshot
		if head != nil {
			ps = append(ps, head)
		}
		s, err := v.Commit(ctx, tr, ps...)
		if err != nil {
			t.Fatal(err)
		}
		head = s
	}
	fork := head
	a, _ := v.Commit(ctx, tr, fork)
	b, _ := v.Commit(ctx, tr, fork)
	b2, _ := v.Commit(ctx, tr, b)
	cb.gets = 0
	if ok, err := v.IsAncestor(ctx, fork.CID, b2.CID); err != nil || !ok {
		t.Fatalf("IsAncestor = %v, %v", ok, err)
	}
	bases, err := v.MergeBases(ctx, a, b2)
	if err != nil || len(bases) != 1 || !bases[0].CID.Equals(fork.CID) {
		t.Fatalf("MergeBases = %v, %v; want the fork", seqs(bases), err)
	}
	if cb.gets > 12 {
		t.Errorf("read %d blocks to answer about the newest 4 snapshots of 503", cb.gets)
	}
}

// TestAncestryBadSeq: a parent whose seq is not below its child's is
// damage, reported, not walked forever.
func TestAncestryBadSeq(t *testing.T) {
	ctx := context.Background()
	clock := time.Unix(1000, 0)
	v := New(testAccount(t, 1), newMem(), WithDevice("12D3KooWdeviceAAAAAAA"), WithClock(func() time.Time { clock = clock.Add(time.Second); return clock }))
	tr, _ := v.NewTree()
	s1, _ := v.Commit(ctx, tr)
	s2, _ := v.Commit(ctx, tr, s1)
	s3, _ := v.Commit(ctx, tr, s2)
	// A snapshot that names s3 as parent but has seq 1, as if its
	// parent had seq 0.
	low := *s3
	low.Seq = 0
	forged, err := v.commit(ctx, tr, []*Snapshot{&low}, "", clock.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	if forged.Seq != 1 {
		t.Fatalf("forged seq %d", forged.Seq)
	}
	_, err = v.MergeBases(ctx, forged, s2)
	var de *DamagedError
	if !errors.As(err, &de) || !errors.Is(err, errBadSeq) {
		t.Fatalf("MergeBases on a forged seq = %v, want a DamagedError", err)
	}
}
