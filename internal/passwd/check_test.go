package passwd

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestChecker(t *testing.T) {
	dir := t.TempDir()
	c := &Checker{Token: "the-token", Dir: dir}
	for _, p := range []string{"", "wrong", "the-token "} {
		if c.Check(p) {
			t.Fatalf("%q passed with no password set", p)
		}
	}
	if !c.Check("the-token") {
		t.Fatal("the token did not pass")
	}
	if err := Set(dir, "first password"); err != nil {
		t.Fatal(err)
	}
	if !c.Check("first password") || c.Check("second password") {
		t.Fatal("first password")
	}
	// A new password is read at the next check; the old one stops.
	if err := Set(dir, "second password"); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(filepath.Join(dir, File), later, later)
	if c.Check("first password") || !c.Check("second password") || !c.Check("the-token") {
		t.Fatal("after the change")
	}
	if (&Checker{Dir: dir}).Check("the-token") {
		t.Fatal("a checker without a token took it")
	}
}
