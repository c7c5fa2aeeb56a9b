package passwd

import (
	"strings"
	"testing"
)

// TestHashVerify: a hash verifies its password and no other, two hashes
// of one password differ (fresh salts), and damaged strings are errors.
func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q", h)
	}
	if ok, err := Verify(h, "correct horse"); !ok || err != nil {
		t.Fatalf("verify: %v, %v", ok, err)
	}
	if ok, _ := Verify(h, "correct horsE"); ok {
		t.Fatal("another password verified")
	}
	if h2, _ := Hash("correct horse"); h2 == h {
		t.Fatal("two hashes of one password are equal")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", strings.Replace(h, "m=65536", "m=999999999", 1), h[:len(h)-30]} {
		if ok, err := Verify(bad, "correct horse"); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
	dir := t.TempDir()
	if err := Set(dir, "short"); err == nil {
		t.Fatal("a short password was set")
	}
	if err := Set(dir, "long enough"); err != nil {
		t.Fatal(err)
	}
	if got, _ := Read(dir); !strings.HasPrefix(got, "$argon2id$") {
		t.Fatalf("read %q", got)
	}
}
