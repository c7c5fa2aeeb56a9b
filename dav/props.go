package dav

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	"golang.org/x/net/webdav"
)

// propStore keeps dead properties (those PROPPATCH sets) in the
// datastore, one record per resource keyed by its path under /props;
// they move with MOVE, are copied with COPY and go with DELETE. They are
// this device's: the vault does not carry them to other devices.
type propStore struct {
	mu sync.Mutex // one read-modify-write at a time
	ds ds.Datastore
}

// storedProp is a property as stored.
type storedProp struct {
	Space string `json:"ns"`
	Local string `json:"name"`
	Lang  string `json:"lang,omitempty"`
	XML   string `json:"xml"`
}

func propKey(p string) ds.Key { return ds.NewKey("/props" + p) }

// pathOf is the inverse of propKey.
func pathOf(k string) string {
	p := strings.TrimPrefix(k, "/props")
	if p == "" {
		return "/"
	}
	return p
}

func (s *propStore) get(ctx context.Context, p string) (map[xml.Name]webdav.Property, error) {
	b, err := s.ds.Get(ctx, propKey(p))
	if errors.Is(err, ds.ErrNotFound) {
		return map[xml.Name]webdav.Property{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the properties of %s: %w", p, err)
	}
	var ps []storedProp
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, fmt.Errorf("failed to read the properties of %s (the record is damaged; set them again): %w", p, err)
	}
	out := make(map[xml.Name]webdav.Property, len(ps))
	for _, sp := range ps {
		n := xml.Name{Space: sp.Space, Local: sp.Local}
		out[n] = webdav.Property{XMLName: n, Lang: sp.Lang, InnerXML: []byte(sp.XML)}
	}
	return out, nil
}

func (s *propStore) put(ctx context.Context, p string, m map[xml.Name]webdav.Property) error {
	k := propKey(p)
	if len(m) == 0 {
		if err := s.ds.Delete(ctx, k); err != nil {
			return fmt.Errorf("failed to save the properties of %s: %w", p, err)
		}
		return nil
	}
	ps := make([]storedProp, 0, len(m))
	for n, pr := range m {
		ps = append(ps, storedProp{Space: n.Space, Local: n.Local, Lang: pr.Lang, XML: string(pr.InnerXML)})
	}
	b, err := json.Marshal(ps)
	if err != nil {
		return err
	}
	if err := s.ds.Put(ctx, k, b); err != nil {
		return fmt.Errorf("failed to save the properties of %s: %w", p, err)
	}
	if err := s.ds.Sync(ctx, k); err != nil {
		return fmt.Errorf("failed to save the properties of %s: %w", p, err)
	}
	return nil
}

// DeadProps returns the dead properties of p.
func (s *propStore) deadProps(ctx context.Context, p string) (map[xml.Name]webdav.Property, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(ctx, p)
}

// patch applies patches to p's properties, all or none.
func (s *propStore) patch(ctx context.Context, p string, patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.get(ctx, p)
	if err != nil {
		return nil, err
	}
	st := webdav.Propstat{Status: http.StatusOK}
	for _, pp := range patches {
		for _, pr := range pp.Props {
			st.Props = append(st.Props, webdav.Property{XMLName: pr.XMLName})
			if pp.Remove {
				delete(m, pr.XMLName)
			} else {
				m[pr.XMLName] = pr
			}
		}
	}
	if err := s.put(ctx, p, m); err != nil {
		return nil, err
	}
	return []webdav.Propstat{st}, nil
}

// under returns the keys of p and of everything below it.
func (s *propStore) under(ctx context.Context, p string) ([]string, error) {
	base := propKey(p).String()
	res, err := s.ds.Query(ctx, query.Query{Prefix: base, KeysOnly: true})
	if err != nil {
		return nil, fmt.Errorf("failed to list properties under %s: %w", p, err)
	}
	defer res.Close()
	var out []string
	// Whether a prefix query yields the key itself differs between
	// datastores: ask for it apart.
	if ok, err := s.ds.Has(ctx, ds.RawKey(base)); err != nil {
		return nil, fmt.Errorf("failed to read the properties of %s: %w", p, err)
	} else if ok {
		out = append(out, base)
	}
	for r := range res.Next() {
		if r.Error != nil {
			return nil, fmt.Errorf("failed to list properties under %s: %w", p, r.Error)
		}
		if r.Key != base && strings.HasPrefix(r.Key, strings.TrimSuffix(base, "/")+"/") {
			out = append(out, r.Key)
		}
	}
	return out, nil
}

// removeAll drops the properties of p and everything below it.
func (s *propStore) removeAll(ctx context.Context, p string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, err := s.under(ctx, p)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.ds.Delete(ctx, ds.RawKey(k)); err != nil {
			return fmt.Errorf("failed to remove the properties of %s: %w", pathOf(k), err)
		}
	}
	return nil
}

// copy gives dst and what is below it the properties of src and what is
// below it; move drops src's.
func (s *propStore) copy(ctx context.Context, src, dst string, move bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, err := s.under(ctx, src)
	if err != nil {
		return err
	}
	for _, k := range keys {
		sp := pathOf(k)
		b, err := s.ds.Get(ctx, ds.RawKey(k))
		if err != nil {
			return fmt.Errorf("failed to read the properties of %s: %w", sp, err)
		}
		dp := dst + strings.TrimPrefix(sp, src)
		if err := s.ds.Put(ctx, propKey(dp), b); err != nil {
			return fmt.Errorf("failed to save the properties of %s: %w", dp, err)
		}
		if move {
			if err := s.ds.Delete(ctx, ds.RawKey(k)); err != nil {
				return fmt.Errorf("failed to remove the properties of %s: %w", sp, err)
			}
		}
	}
	return nil
}
