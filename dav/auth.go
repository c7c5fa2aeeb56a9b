package dav

import (
	"net/http"
	"sync"

	"github.com/peer-cloud/peer/internal/passwd"
)

// Auth lets a request through with HTTP Basic auth, any user name, and
// as password the API token or the password 'peer passwd' set (what
// WebDAV clients such as litmus, rclone, Finder and Windows send); a
// Bearer token as the API takes it works too. The check itself is
// [passwd.Checker], which the web UI's login uses as well.
type Auth struct {
	Token string // the API token
	Dir   string // the repo folder, holding passwd.File

	once  sync.Once
	check *passwd.Checker
}

// Wrap returns next behind the check.
func (a *Auth) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.allowed(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="peer", charset="UTF-8"`)
			http.Error(w, "log in with any user name and the API token (the repo's api.token) or the password set with 'peer passwd'", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *Auth) allowed(r *http.Request) bool {
	pass := ""
	if h := r.Header.Get("Authorization"); len(h) > 7 && h[:7] == "Bearer " {
		pass = h[7:]
	} else if _, p, ok := r.BasicAuth(); ok {
		pass = p
	} else {
		return false
	}
	a.once.Do(func() { a.check = &passwd.Checker{Token: a.Token, Dir: a.Dir} })
	return a.check.Check(pass)
}
