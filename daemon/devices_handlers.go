package daemon

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/peer-cloud/peer/api"
	peersync "github.com/peer-cloud/peer/sync"
)

func apiDevice(d peersync.Device) api.Device {
	out := api.Device{ID: d.ID.String(), Name: d.Name, Connected: d.Connected, This: d.This, Removed: d.Removed}
	at := func(t time.Time) *time.Time {
		if t.IsZero() || t.UnixNano() == 0 {
			return nil
		}
		u := t.UTC()
		return &u
	}
	out.Linked, out.LastSeen = at(d.Linked), at(d.LastSeen)
	if d.Removed {
		out.RemovedBy, out.RemovedAt = d.RemovedBy.String(), at(d.RemovedAt)
	}
	return out
}

func (d *Daemon) handleDevices(w http.ResponseWriter, r *http.Request) error {
	out := []api.Device{}
	for _, dv := range d.sync.Devices() {
		out = append(out, apiDevice(dv))
	}
	return writeJSON(w, http.StatusOK, out)
}

// findDevice picks the one device s names: its peer ID, a prefix of it
// (at least 6 characters), or its name.
func findDevice(devs []peersync.Device, s string) (peersync.Device, error) {
	var byPrefix, byName []peersync.Device
	for _, dv := range devs {
		switch {
		case dv.ID.String() == s:
			return dv, nil
		case len(s) >= 6 && strings.HasPrefix(dv.ID.String(), s):
			byPrefix = append(byPrefix, dv)
		case dv.Name == s:
			byName = append(byName, dv)
		}
	}
	for _, m := range [][]peersync.Device{byPrefix, byName} {
		switch len(m) {
		case 1:
			return m[0], nil
		case 0:
		default:
			return peersync.Device{}, fmt.Errorf("%q names %d devices: give more of the peer ID (see 'peer devices')", s, len(m))
		}
	}
	return peersync.Device{}, fmt.Errorf("%q: %w", s, peersync.ErrUnknownDevice)
}

func (d *Daemon) handleDeviceRemove(w http.ResponseWriter, r *http.Request) error {
	s := strings.TrimSpace(r.URL.Query().Get("id"))
	if s == "" {
		return badRequest(errors.New("name the device to remove: its peer ID, from 'peer devices'"))
	}
	dv, err := findDevice(d.sync.Devices(), s)
	if err != nil {
		return notFound(err)
	}
	if dv.Removed {
		return &httpError{http.StatusConflict, fmt.Errorf("device %s was removed already", dv.ID)}
	}
	if _, err := d.sync.RemoveDevice(r.Context(), dv.ID); err != nil {
		if errors.Is(err, peersync.ErrUnknownDevice) {
			return notFound(err)
		}
		return badRequest(err)
	}
	for _, now := range d.sync.Devices() {
		if now.ID == dv.ID {
			return writeJSON(w, http.StatusOK, apiDevice(now))
		}
	}
	return writeJSON(w, http.StatusOK, api.Device{ID: dv.ID.String(), Removed: true})
}
