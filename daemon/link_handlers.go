package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/peer-cloud/peer/api"
	"github.com/peer-cloud/peer/link"
)

// linkWait bounds one GET /link/{id}: the client asks again.
const linkWait = 30 * time.Second

// startLink serves link offers on the node: a device that proves an
// offer's secret gets the root secret and a certificate, and is added to
// the account's root once it stored them.
func (d *Daemon) startLink() {
	d.link = link.NewOfferer(d.node.Host(), link.OffererConfig{
		Welcome: func(_ context.Context, device peer.ID, name string) ([]byte, []byte, error) {
			if err := d.sync.Removed(); err != nil {
				return nil, nil, err
			}
			c, err := d.acct.Keys().CertifyDevice(device, name, time.Now().UnixNano())
			if err != nil {
				return nil, nil, err
			}
			b, err := c.Marshal()
			if err != nil {
				return nil, nil, err
			}
			return d.acct.Keys().Secret(), b, nil
		},
		Epochs: d.acct.Keys().Epochs,
		Joined: d.sync.AddDevice,
		Log:    d.log.With("part", "link"),
	})
}

func linkOffer(s link.Status) api.LinkOffer {
	out := api.LinkOffer{ID: s.ID, URI: s.URI, Expires: s.Expires.UTC(), State: string(s.State), Fingerprint: s.Fingerprint,
		DeviceName: s.DeviceName, Error: s.Err, Version: s.Version}
	if s.Device != "" {
		out.Device = s.Device.String()
	}
	return out
}

// linkError maps the offerer's errors to statuses.
func linkError(err error) error {
	switch {
	case errors.Is(err, link.ErrUnknownOffer):
		return notFound(err)
	case errors.Is(err, link.ErrNotConfirming):
		return &httpError{http.StatusConflict, err}
	}
	return err
}

func (d *Daemon) handleLinkOffer(w http.ResponseWriter, r *http.Request) error {
	if err := d.sync.Removed(); err != nil {
		return &httpError{http.StatusConflict, fmt.Errorf("failed to make a link: %w", err)}
	}
	q := r.URL.Query()
	var ttl time.Duration
	if s := q.Get("expires"); s != "" {
		var err error
		if ttl, err = time.ParseDuration(s); err != nil {
			return badRequest(fmt.Errorf("bad expires %q (examples: 5m, 90s): %w", s, err))
		}
	}
	yes, _ := strconv.ParseBool(q.Get("yes"))
	st, err := d.link.Offer(link.LANAddrs(d.node.Host().Addrs()), ttl, yes)
	if err != nil {
		return badRequest(err)
	}
	return writeJSON(w, http.StatusOK, linkOffer(st))
}

func (d *Daemon) handleLinkWait(w http.ResponseWriter, r *http.Request) error {
	since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
	ctx, cancel := context.WithTimeout(r.Context(), linkWait)
	defer cancel()
	st, err := d.link.Wait(ctx, r.PathValue("id"), since)
	if err != nil {
		return linkError(err)
	}
	return writeJSON(w, http.StatusOK, linkOffer(st))
}

func (d *Daemon) handleLinkConfirm(w http.ResponseWriter, r *http.Request) error {
	accept, err := strconv.ParseBool(r.URL.Query().Get("accept"))
	if err != nil {
		return badRequest(errors.New("accept must be true or false"))
	}
	id := r.PathValue("id")
	if err := d.link.Confirm(id, accept); err != nil {
		return linkError(err)
	}
	st, err := d.link.Status(id)
	if err != nil {
		return linkError(err)
	}
	return writeJSON(w, http.StatusOK, linkOffer(st))
}

func (d *Daemon) handleLinkCancel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := d.link.Cancel(id); err != nil {
		return linkError(err)
	}
	st, err := d.link.Status(id)
	if err != nil {
		return linkError(err)
	}
	return writeJSON(w, http.StatusOK, linkOffer(st))
}
