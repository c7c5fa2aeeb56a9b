package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/peer-cloud/peer/internal/passwd"
)

// TestPasswd: 'peer passwd' stores an argon2id hash of the line on
// stdin, refuses a short one, and --remove forgets it.
func TestPasswd(t *testing.T) {
	r := testRepo(t)
	passwdRun := func(stdin string, args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), append([]string{"--repo", r.Dir, "passwd"}, args...), strings.NewReader(stdin), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := passwdRun("correct horse battery\n"); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	h, err := passwd.Read(r.Dir)
	if err != nil || !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("stored %q, %v", h, err)
	}
	if ok, err := passwd.Verify(h, "correct horse battery"); !ok || err != nil {
		t.Fatalf("the stored hash does not verify the password: %v, %v", ok, err)
	}
	if ok, _ := passwd.Verify(h, "correct horse batterY"); ok {
		t.Fatal("the stored hash verifies another password")
	}
	if code, out := passwdRun("short\n"); code == 0 || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("a short password: exit %d, %q; want a failure on one line", code, out)
	}
	if code, _ := passwdRun(""); code == 0 {
		t.Fatal("no password on stdin succeeded")
	}
	if code, out := passwdRun("", "--remove"); code != 0 {
		t.Fatalf("--remove: exit %d: %s", code, out)
	}
	if h, _ := passwd.Read(r.Dir); h != "" {
		t.Fatalf("after --remove the hash is %q", h)
	}
}
