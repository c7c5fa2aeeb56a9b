package pinsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
)

// The statuses of a pin request.
const (
	StatusQueued  = "queued"
	StatusPinning = "pinning"
	StatusPinned  = "pinned"
	StatusFailed  = "failed"
)

// Pin is what a client asks to be pinned.
type Pin struct {
	CID     string            `json:"cid"`
	Name    string            `json:"name,omitempty"`
	Origins []string          `json:"origins,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`
}

// Status is a pin request as the service keeps and answers it.
type Status struct {
	RequestID string            `json:"requestid"`
	Status    string            `json:"status"`
	Created   time.Time         `json:"created"`
	Pin       Pin               `json:"pin"`
	Delegates []string          `json:"delegates"`
	Info      map[string]string `json:"info,omitempty"`
}

type errorBody struct {
	Error struct {
		Reason  string `json:"reason"`
		Details string `json:"details,omitempty"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, code int, reason, details string) {
	var e errorBody
	e.Error.Reason, e.Error.Details = reason, details
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(e)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// maxPins bounds the requests one service keeps.
const maxPins = 10000

// Handler serves /pins and /pins/{requestid}.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pins", s.list)
	mux.HandleFunc("POST /pins", s.add)
	mux.HandleFunc("GET /pins/{id}", s.get)
	mux.HandleFunc("POST /pins/{id}", s.replace)
	mux.HandleFunc("DELETE /pins/{id}", s.remove)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "send 'Authorization: Bearer TOKEN' with a token from 'peer donate pinning-token'")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Service) delegates() []string {
	d := s.cfg.Delegates()
	if len(d) == 0 {
		d = []string{}
	}
	return d
}

func readPin(w http.ResponseWriter, r *http.Request) (Pin, bool) {
	var p Pin
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&p); err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "the body is not a pin: "+err.Error())
		return p, false
	}
	if _, err := cid.Decode(p.CID); err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("cid %q: %v", p.CID, err))
		return p, false
	}
	if len(p.Name) > 255 || len(p.Origins) > 20 || len(p.Meta) > 100 {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "name over 255 bytes, or too many origins or meta")
		return p, false
	}
	return p, true
}

func (s *Service) add(w http.ResponseWriter, r *http.Request) {
	p, ok := readPin(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if len(s.reqs) >= maxPins {
		s.mu.Unlock()
		writeError(w, http.StatusInsufficientStorage, "INSUFFICIENT_FUNDS", fmt.Sprintf("this node keeps at most %d pin requests", maxPins))
		return
	}
	st := &Status{RequestID: newRequestID(), Status: StatusQueued, Created: time.Now().UTC(), Pin: p, Delegates: s.delegates()}
	s.reqs[st.RequestID] = st
	err := s.save(r.Context(), st)
	out := *st
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", err.Error())
		return
	}
	s.run(out.RequestID)
	writeJSON(w, http.StatusAccepted, out)
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := s.reqs[r.PathValue("id")]
	var out Status
	if st != nil {
		out = *st
		out.Delegates = s.delegates()
	}
	s.mu.Unlock()
	if st == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such pin request")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Service) replace(w http.ResponseWriter, r *http.Request) {
	p, ok := readPin(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	old, err := s.forget(r.Context(), id)
	switch {
	case err != nil:
		s.mu.Unlock()
		writeError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", err.Error())
		return
	case old == nil:
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such pin request")
		return
	}
	st := &Status{RequestID: newRequestID(), Status: StatusQueued, Created: time.Now().UTC(), Pin: p, Delegates: s.delegates()}
	s.reqs[st.RequestID] = st
	err = s.save(r.Context(), st)
	out := *st
	orphan := !s.pinnedByOthers(old.Pin.CID) // the new request may pin it
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", err.Error())
		return
	}
	if orphan {
		s.unpin(r.Context(), old.Pin.CID)
	}
	s.run(out.RequestID)
	writeJSON(w, http.StatusAccepted, out)
}

func (s *Service) remove(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st, err := s.forget(r.Context(), r.PathValue("id"))
	orphan := st != nil && !s.pinnedByOthers(st.Pin.CID)
	s.mu.Unlock()
	switch {
	case err != nil:
		writeError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", err.Error())
		return
	case st == nil:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such pin request")
		return
	}
	if orphan {
		s.unpin(r.Context(), st.Pin.CID)
	}
	w.WriteHeader(http.StatusAccepted)
}

// forget drops request id, from the datastore too, and returns it (nil
// when there is none); the caller holds mu.
func (s *Service) forget(ctx context.Context, id string) (*Status, error) {
	st := s.reqs[id]
	if st == nil {
		return nil, nil
	}
	delete(s.reqs, id)
	if err := s.cfg.Datastore.Delete(ctx, dsKey(id)); err != nil {
		return st, fmt.Errorf("failed to forget pin request %s: %w", id, err)
	}
	return st, nil
}

// unpin lets go of the DAG under c (a CID's text).
func (s *Service) unpin(ctx context.Context, c string) {
	k, err := cid.Decode(c)
	if err != nil {
		return
	}
	if err := s.cfg.Pinner.Unpin(ctx, k); err != nil {
		s.cfg.Log.Debug("failed to unpin", "cid", k, "err", err)
	}
}

// pinnedByOthers reports whether another request pins c; the caller
// holds mu.
func (s *Service) pinnedByOthers(c string) bool {
	for _, st := range s.reqs {
		if st.Pin.CID == c {
			return true
		}
	}
	return false
}

func dsKey(id string) ds.Key { return ds.NewKey(reqPrefix + id) }

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "limit must be 1 to 1000")
			return
		}
		limit = n
	}
	statuses := []string{StatusPinned}
	if v := q.Get("status"); v != "" {
		statuses = strings.Split(v, ",")
	}
	var cids []string
	if v := q.Get("cid"); v != "" {
		cids = strings.Split(v, ",")
	}
	name, match := q.Get("name"), q.Get("match")
	var before, after time.Time
	for k, t := range map[string]*time.Time{"before": &before, "after": &after} {
		if v := q.Get(k); v != "" {
			p, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, "BAD_REQUEST", k+" must be an RFC 3339 time")
				return
			}
			*t = p
		}
	}
	s.mu.Lock()
	var all []Status
	for _, st := range s.reqs {
		switch {
		case !slices.Contains(statuses, st.Status),
			len(cids) > 0 && !slices.Contains(cids, st.Pin.CID),
			name != "" && !nameMatches(st.Pin.Name, name, match),
			!before.IsZero() && !st.Created.Before(before),
			!after.IsZero() && !st.Created.After(after):
			continue
		}
		out := *st
		out.Delegates = s.delegates()
		all = append(all, out)
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b Status) int { return b.Created.Compare(a.Created) })
	count := len(all)
	if len(all) > limit {
		all = all[:limit]
	}
	if all == nil {
		all = []Status{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": count, "results": all})
}

func nameMatches(have, want, match string) bool {
	switch match {
	case "iexact":
		return strings.EqualFold(have, want)
	case "partial":
		return strings.Contains(have, want)
	case "ipartial":
		return strings.Contains(strings.ToLower(have), strings.ToLower(want))
	}
	return have == want
}
