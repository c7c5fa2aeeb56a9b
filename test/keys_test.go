package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peer-cloud/peer/internal/lantest"
)

// TestRemovalRotatesKeysOverLAN: 'peer devices remove' rotates the
// account's keys and prints the new recovery key; 'peer account phrase'
// then prints the phrase and that key, and a device restored from both
// (piped into 'peer init --recover') reads what was written after the
// removal.
func TestRemovalRotatesKeysOverLAN(t *testing.T) {
	lan := lantest.New(t, 3)
	a, b := devicePair(t, lan)
	phrase := strings.TrimSpace(a.MustRun("account", "phrase"))
	dir := t.TempDir()
	src := filepath.Join(dir, "from-b.txt")
	os.WriteFile(src, []byte("written on B"), 0o644)
	b.MustRun("add", src)
	waitFor(t, 30*time.Second, "B's file on A", func() bool { return lsHas(a, "/", "from-b.txt") })
	var sb struct{ Device string }
	json.Unmarshal([]byte(b.MustRun("status", "--json")), &sb)

	out := a.MustRun("devices", "remove", sb.Device)
	var key string
	for _, l := range strings.Split(out, "\n") {
		if k, ok := strings.CutPrefix(l, "recovery key: "); ok {
			key = k
		}
	}
	if !strings.HasPrefix(key, "1 ") || len(strings.Fields(key)) != 25 {
		t.Fatalf("'peer devices remove' printed %q: want a recovery key of epoch 1", out)
	}
	var st struct {
		KeyEpoch uint64 `json:"key_epoch"`
	}
	json.Unmarshal([]byte(a.MustRun("status", "--json")), &st)
	if st.KeyEpoch != 1 {
		t.Fatalf("A is at key epoch %d after a removal", st.KeyEpoch)
	}
	after := filepath.Join(dir, "after.txt")
	os.WriteFile(after, []byte("written after the removal"), 0o644)
	a.MustRun("add", after)

	both := a.MustRun("account", "phrase")
	if lines := strings.Split(strings.TrimSpace(both), "\n"); len(lines) != 2 || lines[0] != phrase || lines[1] != key {
		t.Fatalf("'peer account phrase' printed %q, want the phrase and the recovery key", both)
	}
	c := lantest.NewPeer(t, lan.Hosts[2], lantest.PeerOptions{MDNS: true, Phrase: both})
	c.Start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("A's log:\n%s\nC's log:\n%s", a.Logs(), c.Logs())
		}
	})
	waitFor(t, 60*time.Second, "the restored device reading what was written after the removal", func() bool {
		got, err := c.Run("cat", "/after.txt")
		return err == nil && got == "written after the removal"
	})
	json.Unmarshal([]byte(c.MustRun("status", "--json")), &st)
	if st.KeyEpoch != 1 {
		t.Fatalf("the restored device is at key epoch %d", st.KeyEpoch)
	}
}
