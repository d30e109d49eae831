// Package hostile provides misbehaving HTTP servers on loopback for tests
// of Plex Warden's HTTP clients: a trap that records whoever reaches it
// (and with which X-Plex-Token), and a redirector that sends every request
// somewhere else. It is used by tests only.
package hostile

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Trap is a server that answers 200 to everything and records the
// X-Plex-Token of every request it got.
type Trap struct {
	*httptest.Server
	mu     sync.Mutex
	tokens []string
}

// NewTrap starts a trap on 127.0.0.2 (another host than the 127.0.0.1 of
// the other test servers), or on another port of 127.0.0.1 where 127.0.0.2
// cannot be bound. It stops when the test ends.
func NewTrap(t testing.TB) *Trap {
	t.Helper()
	tr := &Trap{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		tr.tokens = append(tr.tokens, r.Header.Get("X-Plex-Token"))
		tr.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"MediaContainer":{"size":0}}`))
	}))
	if ln, err := net.Listen("tcp", "127.0.0.2:0"); err == nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.Start()
	t.Cleanup(srv.Close)
	tr.Server = srv
	return tr
}

// Hits returns how many requests reached the trap.
func (tr *Trap) Hits() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.tokens)
}

// Tokens returns the X-Plex-Token header of every request, "" when absent.
func (tr *Trap) Tokens() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.tokens...)
}

// NewRedirector starts a server on 127.0.0.1 answering every request with
// status (e.g. 302 or 307) and Location: to followed by the request's path.
// With tlsServer it speaks HTTPS (httptest's certificate; use its Client).
// It stops when the test ends.
func NewRedirector(t testing.TB, status int, to string, tlsServer bool) *httptest.Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to+r.URL.Path, status)
	})
	var srv *httptest.Server
	if tlsServer {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}
