package daemon

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	carv2 "github.com/ipld/go-car/v2"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/p2p"
)

// maxCARBlock bounds one block of an imported CAR (Bitswap's limit).
const maxCARBlock = 2 << 20

// handleCARImport stores the blocks of a CAR (v1 or v2) in the body,
// each checked against its CID, then pins each of its roots as 'peer ipfs
// pin add' does: what the CAR lacked of a root's DAG is fetched from the
// network first. The inverse, an export, is the gateway's
// /ipfs/CID?format=car.
func (d *Daemon) handleCARImport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	unlock := d.store.Blockstore().PinLock(ctx)
	defer unlock.Unlock(ctx)
	br, err := carv2.NewBlockReader(r.Body, carv2.WithTrustedCAR(false), carv2.MaxAllowedSectionSize(maxCARBlock+256))
	if err != nil {
		return badRequest(fmt.Errorf("failed to read the CAR: %w", err))
	}
	var out api.CARImported
	for {
		b, err := br.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return badRequest(fmt.Errorf("failed to read the CAR after %d blocks (nothing is pinned; the blocks stored so far go at the next GC): %w", out.Blocks, err))
		}
		if err := d.store.Blockstore().Put(ctx, b); err != nil {
			return fmt.Errorf("failed to store block %s of the CAR: %w", b.Cid(), err)
		}
		out.Blocks++
		out.Bytes += uint64(len(b.RawData()))
	}
	for _, root := range br.Roots {
		var got api.Pinned
		if err := d.node.FetchDAG(ctx, root, func(p p2p.Progress) { got.Blocks, got.Bytes = p.Blocks, p.Bytes }); err != nil {
			return fmt.Errorf("failed to complete the DAG of root %s (the CAR does not hold all of it, and the network did not give the rest): %w", root, err)
		}
		if err := d.pin(ctx, root); err != nil {
			return err
		}
		got.CID = root.String()
		out.Roots = append(out.Roots, got)
	}
	return writeJSON(w, http.StatusOK, out)
}
