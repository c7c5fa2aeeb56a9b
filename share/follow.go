package share

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peer-cloud/peer/vault"
)

// ErrNoShare says an account root lists no share for a following link.
var ErrNoShare = errors.New("the account lists no share for this link: it was never made, or ended long ago (or the link is mistyped)")

// Followed finds the share a following link's secret opens among the
// share nodes of its account's root r, reading them through bs, and
// returns the file it gives now. A share that ended or expired is an
// error that says so.
func Followed(ctx context.Context, bs vault.Blocks, r *vault.Root, secret [32]byte, now time.Time) (vault.SharedFile, error) {
	var errs []error
	for i, c := range r.Shares {
		if i >= MaxShares {
			break
		}
		f, err := vault.ReadShare(ctx, bs, c, secret)
		if errors.Is(err, vault.ErrOtherShare) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch {
		case f.Ended != 0:
			return f, fmt.Errorf("its owner ended this share on %s: nothing written since reaches this link", time.Unix(0, f.Ended).UTC().Format(time.DateTime+" UTC"))
		case f.Expires != 0 && !now.Before(time.Unix(0, f.Expires)) && !f.CID.Defined():
			return f, fmt.Errorf("this share expired on %s", time.Unix(0, f.Expires).UTC().Format(time.DateTime+" UTC"))
		case !f.CID.Defined():
			return f, errors.New("the shared path holds no file now (it was removed or moved); the link opens again if a file comes back there")
		}
		return f, nil
	}
	if len(errs) > 0 {
		return vault.SharedFile{}, fmt.Errorf("%w; some shares of the account could not be read: %w", ErrNoShare, errors.Join(errs...))
	}
	return vault.SharedFile{}, ErrNoShare
}
