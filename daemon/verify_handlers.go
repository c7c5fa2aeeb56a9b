package daemon

import (
	"context"
	"log/slog"
	"net/http"

	cid "github.com/ipfs/go-cid"

	"github.com/peer-cloud/peer/account"
	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/blockstore"
	"github.com/peer-cloud/peer/repo"
)

func (d *Daemon) handleRepoVerify(w http.ResponseWriter, r *http.Request) error {
	rep, err := d.store.Verify(r.Context(), nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, verifyReport(rep))
}

// VerifyRepo verifies the block store of r with no daemon running: it
// opens the store, keeps what a daemon keeps (the pins and the account's
// head, read from where the daemon records it) and runs
// [blockstore.Store.Verify]. progress is as there.
func VerifyRepo(ctx context.Context, r *repo.Repo, progress func(blocks int, bytes int64), log *slog.Logger) (api.VerifyReport, error) {
	profile, err := blockstore.ParseProfile(r.Config.Profile)
	if err != nil {
		return api.VerifyReport{}, err
	}
	store, err := blockstore.Open(ctx, r.BlocksDir(), profile, log)
	if err != nil {
		return api.VerifyReport{}, err
	}
	defer store.Close()
	head, err := account.StoredHead(ctx, store)
	if err != nil {
		return api.VerifyReport{}, err
	}
	if head.Defined() {
		store.AddRoots(func(context.Context) ([]cid.Cid, error) { return []cid.Cid{head}, nil })
	}
	rep, err := store.Verify(ctx, progress)
	if err != nil {
		return api.VerifyReport{}, err
	}
	return verifyReport(rep), nil
}

func verifyReport(rep blockstore.VerifyReport) api.VerifyReport {
	problems := func(ps []blockstore.Problem) []api.VerifyProblem {
		out := make([]api.VerifyProblem, len(ps))
		for i, p := range ps {
			out[i] = api.VerifyProblem{CID: p.CID.String(), Reason: p.Reason}
			if p.Root.Defined() {
				out[i].Root = p.Root.String()
			}
		}
		return out
	}
	return api.VerifyReport{
		OK: rep.OK(), Blocks: rep.Blocks, Bytes: rep.Bytes, Roots: rep.Roots, Reachable: rep.Reachable,
		Damaged: problems(rep.Damaged), Missing: problems(rep.Missing),
	}
}
