package blockstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	cid "github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	"github.com/multiformats/go-multihash"
)

// VerifyReport says what [Store.Verify] found.
type VerifyReport struct {
	// Blocks is the number of blocks read and re-hashed; Bytes their size.
	Blocks int
	Bytes  int64
	// Roots is the number of pins and kept roots walked; Reachable the
	// blocks found under them (present or not).
	Roots     int
	Reachable int
	// Damaged lists blocks whose bytes do not match their CID, that cannot
	// be read, or whose links cannot be decoded.
	Damaged []Problem
	// Missing lists blocks a pin or kept root needs that the store lacks.
	Missing []Problem
}

// OK reports that nothing is damaged or missing.
func (r VerifyReport) OK() bool { return len(r.Damaged) == 0 && len(r.Missing) == 0 }

// Problem is one damaged or missing block.
type Problem struct {
	// CID is the block's CID as a root's DAG links to it; for a damaged
	// block no root reaches, CIDv1 raw of the multihash it is stored under.
	CID cid.Cid
	// Root is the pin or kept root the block was reached from, cid.Undef
	// if none reaches it.
	Root cid.Cid
	// Reason says what is wrong, in a few words.
	Reason string
}

// Verify checks the store as `restic check` or `ipfs repo verify` do: it
// reads every block and re-hashes it against its multihash, then walks
// every pin and kept root (see [Store.AddRoots]; the account's head and so
// its whole history is one) and lists the blocks they need that are
// missing. progress, if not nil, is called after each block read with the
// totals so far. GC waits while the roots are walked, so it cannot make
// blocks look missing; adds go on.
func (s *Store) Verify(ctx context.Context, progress func(blocks int, bytes int64)) (VerifyReport, error) {
	var rep VerifyReport
	damaged, err := s.verifyBlocks(ctx, &rep, progress)
	if err != nil {
		return rep, err
	}
	unlock := s.blocks.PinLock(ctx)
	defer unlock.Unlock(ctx)
	roots, err := s.allRoots(ctx)
	if err != nil {
		return rep, err
	}
	rep.Roots = len(roots)
	seen := map[string]struct{}{}
	for _, p := range roots {
		if err := s.verifyDAG(ctx, p, &rep, damaged, seen); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// verifyBlocks re-hashes every block in the store into rep and returns
// the indexes in rep.Damaged of the damaged ones, by multihash.
func (s *Store) verifyBlocks(ctx context.Context, rep *VerifyReport, progress func(int, int64)) (map[string]int, error) {
	damaged := map[string]int{}
	res, err := s.ds.Query(ctx, dsq.Query{Prefix: blocksPrefix, KeysOnly: true})
	if err != nil {
		return nil, fmt.Errorf("failed to list blocks: %w", err)
	}
	defer res.Close()
	for r := range res.Next() {
		if r.Error != nil {
			return nil, fmt.Errorf("failed to list blocks: %w", r.Error)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		mh, err := dshelp.DsKeyToMultihash(ds.NewKey(ds.RawKey(r.Key).BaseNamespace()))
		if err != nil {
			s.log.Warn("skipping a block key that is not a multihash", "key", r.Key, "err", err)
			continue
		}
		data, err := s.ds.Get(ctx, ds.RawKey(r.Key))
		if errors.Is(err, ds.ErrNotFound) {
			continue // removed since the listing
		}
		rep.Blocks++
		rep.Bytes += int64(len(data))
		if progress != nil {
			progress(rep.Blocks, rep.Bytes)
		}
		reason := ""
		if err != nil {
			reason = "cannot be read: " + firstLine(err.Error())
		} else if reason = checkHash(mh, data); reason != "" && len(data) == 0 {
			// Badger logs a value it cannot read and returns none.
			reason = "it reads back empty (cut short or unreadable)"
		}
		if reason != "" {
			damaged[string(mh)] = len(rep.Damaged)
			rep.Damaged = append(rep.Damaged, Problem{CID: cid.NewCidV1(cid.Raw, mh), Reason: reason})
		}
	}
	return damaged, nil
}

// checkHash returns why data does not hash to mh, or "".
func checkHash(mh multihash.Multihash, data []byte) string {
	d, err := multihash.Decode(mh)
	if err != nil {
		return "its key is not a valid multihash"
	}
	if d.Code == multihash.IDENTITY {
		if !bytes.Equal(d.Digest, data) {
			return "its bytes do not match its hash"
		}
		return ""
	}
	sum, err := multihash.Sum(data, d.Code, d.Length)
	if err != nil {
		return fmt.Sprintf("its hash function 0x%x cannot be checked", d.Code)
	}
	if !bytes.Equal(sum, mh) {
		return "its bytes do not match its hash"
	}
	return ""
}

// verifyDAG walks the DAG of p (only its root for a direct pin), skipping
// blocks in seen, and adds what is missing or damaged to rep. It does not
// descend below a damaged block: its links cannot be trusted.
func (s *Store) verifyDAG(ctx context.Context, p Pin, rep *VerifyReport, damaged map[string]int, seen map[string]struct{}) error {
	stack := []cid.Cid{p.Key}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		k := string(c.Hash())
		if _, ok := seen[k]; ok {
			continue
		}
		seen[k] = struct{}{}
		rep.Reachable++
		if i, ok := damaged[k]; ok {
			rep.Damaged[i].CID, rep.Damaged[i].Root = c, p.Key
			continue
		}
		if c.Prefix().MhType == multihash.IDENTITY {
			continue
		}
		key := ds.NewKey(blocksPrefix).Child(dshelp.MultihashToDsKey(c.Hash()))
		problem := func(list *[]Problem, reason string) {
			*list = append(*list, Problem{CID: c, Root: p.Key, Reason: reason})
		}
		if c.Prefix().Codec == cid.Raw || !p.Recursive {
			// The pass over every block read and checked it.
			has, err := s.ds.Has(ctx, key)
			if err != nil {
				problem(&rep.Damaged, "cannot be read: "+firstLine(err.Error()))
			} else if !has {
				problem(&rep.Missing, "not in the store")
			}
			continue
		}
		data, err := s.ds.Get(ctx, key)
		switch {
		case errors.Is(err, ds.ErrNotFound):
			problem(&rep.Missing, "not in the store")
			continue
		case err != nil:
			problem(&rep.Damaged, "cannot be read: "+firstLine(err.Error()))
			continue
		}
		// Added since the pass over every block, maybe: check it again.
		if reason := checkHash(c.Hash(), data); reason != "" {
			problem(&rep.Damaged, reason)
			continue
		}
		b, err := blocks.NewBlockWithCid(data, c)
		if err != nil {
			return fmt.Errorf("failed to make block %s: %w", c, err)
		}
		ls, err := Links(b)
		if err != nil {
			problem(&rep.Damaged, "its links cannot be read: "+firstLine(err.Error()))
			continue
		}
		stack = append(stack, ls...)
	}
	return nil
}
