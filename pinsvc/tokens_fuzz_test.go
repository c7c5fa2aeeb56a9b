package pinsvc

import (
	"context"
	"testing"

	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// FuzzLoadTokens: whatever the tokens record on disk holds, reading it
// gives tokens with hashes of 64 digits and IDs of their first 12, or an
// error; it never panics.
func FuzzLoadTokens(f *testing.F) {
	f.Add([]byte(`[{"id":"x","hash":"` + hashToken("a") + `","name":"n","issued":"2026-12-01T00:00:00Z"}]`))
	f.Add([]byte(`["` + hashToken("a") + `"]`))
	f.Add([]byte(`[1]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := context.Background()
		d := dssync.MutexWrap(ds.NewMapDatastore())
		if err := d.Put(ctx, tokensKey, b); err != nil {
			t.Fatal(err)
		}
		s := &Service{cfg: Config{Datastore: d}}
		if err := s.loadTokens(ctx); err != nil {
			return
		}
		for _, tk := range s.tokens {
			if len(tk.Hash) != 64 || tk.ID != tk.Hash[:12] {
				t.Fatalf("token %+v", tk)
			}
		}
	})
}
