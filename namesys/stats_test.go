package namesys_test

import (
	"testing"
	"time"
)

// TestStats: a publication counts as signed and sent, a republication as
// sent only, and each DHT put as ok once the put ends.
func TestStats(t *testing.T) {
	sk, name := key(t)
	a, b, _ := pair(t, name)
	if _, err := a.Publish(t.Context(), sk, value(t, "one")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.Stats().DHTOK+a.Stats().DHTFailed < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the DHT put did not end in 10 s: %+v", a.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := a.Stats(); st.Signed != 1 || st.Sent != 1 || st.DHTOK != 1 || st.PubsubFailed != 0 {
		t.Fatalf("after one publication to a connected peer: %+v", st)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		if err := b.Republish(t.Context(), name); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := b.Stats(); st.Signed != 0 || st.Sent != 1 {
		t.Fatalf("after one republication: %+v", st)
	}
}
