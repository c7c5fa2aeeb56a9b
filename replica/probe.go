package replica

import (
	"context"
	"math/rand/v2"

	"github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/vault"
)

// Probes picks up to n blocks of the DAG under top for a holder to prove:
// top itself, then the blocks on random ways down from it (a snapshot to
// its tree, a folder to one of its entries, a file version to one of its
// chunks), read through get from this node's own store. Links are read
// from the nodes' clear parts: no key is needed.
func Probes(ctx context.Context, get func(context.Context, cid.Cid) ([]byte, error), top cid.Cid, n int, r *rand.Rand) []cid.Cid {
	if n > MaxProbes {
		n = MaxProbes
	}
	seen := map[cid.Cid]bool{top: true}
	out := []cid.Cid{top}
	for walk := 0; walk < 4*n && len(out) < n; walk++ {
		c := top
		for depth := 0; depth < 64 && len(out) < n; depth++ {
			data, err := get(ctx, c)
			if err != nil {
				break
			}
			links, err := vault.Links(c, data)
			if err != nil || len(links) == 0 {
				break
			}
			c = links[r.IntN(len(links))]
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}
