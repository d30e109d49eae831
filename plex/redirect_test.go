package plex_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/hostile"
)

func TestCheckRedirect(t *testing.T) {
	tests := []struct {
		name, from, to string
		ok             bool
	}{
		{"same origin", "http://127.0.0.1:32400/status/sessions", "http://127.0.0.1:32400/moved", true},
		{"host case and default port", "https://Plex.Example:443/a", "https://plex.example/b", true},
		{"other host", "http://127.0.0.1:32400/a", "http://127.0.0.2:32400/a", false},
		{"other port", "http://127.0.0.1:32400/a", "http://127.0.0.1:32401/a", false},
		{"https to http on the same host and port", "https://127.0.0.1:32400/a", "http://127.0.0.1:32400/a", false},
		{"http to https", "http://127.0.0.1:32400/a", "https://127.0.0.1:32400/a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, _ := url.Parse(tt.from)
			to, _ := url.Parse(tt.to)
			err := plex.CheckRedirect(&http.Request{URL: to}, []*http.Request{{URL: from}})
			if got := err == nil; got != tt.ok {
				t.Fatalf("CheckRedirect(%s → %s) = %v, want followed=%v", tt.from, tt.to, err, tt.ok)
			}
			if !tt.ok && (!errors.Is(err, plex.ErrRedirectRefused) || !strings.Contains(err.Error(), to.Host)) {
				t.Errorf("error %q: want ErrRedirectRefused naming %s", err, to.Host)
			}
		})
	}
}

// TestClientRefusesForeignRedirect points a client at a server that
// redirects every request to a trap on another host (or port): the calls
// fail with an error naming the trap, and the trap never sees the token.
func TestClientRefusesForeignRedirect(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			trap := hostile.NewTrap(t)
			red := hostile.NewRedirector(t, status, trap.URL, false)
			c, err := plex.NewClient(red.URL, testToken, plex.ClientInfo{ID: "id"}, plex.WithTimeout(3*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			calls := map[string]func() error{
				"sessions":  func() error { _, err := c.Sessions(ctx); return err },
				"terminate": func() error { return c.Terminate(ctx, "abc", "bye") },
				"info":      func() error { _, err := c.ServerInfo(ctx); return err },
			}
			for name, call := range calls {
				err := call()
				if !errors.Is(err, plex.ErrRedirectRefused) {
					t.Errorf("%s: err = %v, want ErrRedirectRefused", name, err)
					continue
				}
				if host := strings.TrimPrefix(trap.URL, "http://"); !strings.Contains(err.Error(), host) {
					t.Errorf("%s: error %q does not name the target %s", name, err, host)
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("%s: error %q carries the token", name, err)
				}
			}
			if n := trap.Hits(); n != 0 {
				t.Errorf("the other host got %d requests (tokens %q), want none", n, trap.Tokens())
			}
		})
	}
}

// TestClientFollowsSameOriginRedirect: a redirect on the same server is
// followed, with the token.
func TestClientFollowsSameOriginRedirect(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/status/sessions" {
			http.Redirect(w, r, "/moved/status/sessions", http.StatusFound)
			return
		}
		got.Store(r.Header.Get("X-Plex-Token"))
		_, _ = w.Write([]byte(`{"MediaContainer":{"size":0}}`))
	}))
	defer srv.Close()
	c, err := plex.NewClient(srv.URL, testToken, plex.ClientInfo{ID: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sessions(context.Background()); err != nil {
		t.Fatalf("Sessions after a same-origin redirect: %v", err)
	}
	if tok, _ := got.Load().(string); tok != testToken {
		t.Errorf("token at the redirect target = %q, want it sent", tok)
	}
	c.CloseIdleConnections()
}

// TestClientRefusesDowngrade: an https server redirecting to plain http is
// not followed, even when the caller's own client would.
func TestClientRefusesDowngrade(t *testing.T) {
	trap := hostile.NewTrap(t)
	red := hostile.NewRedirector(t, http.StatusFound, trap.URL, true)
	hc := red.Client() // trusts the test certificate; CheckRedirect nil (follow all)
	c, err := plex.NewClient(red.URL, testToken, plex.ClientInfo{ID: "id"}, plex.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Sessions(context.Background())
	if !errors.Is(err, plex.ErrRedirectRefused) || !strings.Contains(err.Error(), "https to plain http") {
		t.Errorf("err = %v, want a refused https → http redirect", err)
	}
	if n := trap.Hits(); n != 0 {
		t.Errorf("the plain-http target got %d requests, want none", n)
	}
	c.CloseIdleConnections()
}

// TestFeedRefusesForeignRedirect: the event stream does not follow a
// redirect to another host either; the feed reports it and keeps trying.
func TestFeedRefusesForeignRedirect(t *testing.T) {
	trap := hostile.NewTrap(t)
	red := hostile.NewRedirector(t, http.StatusTemporaryRedirect, trap.URL, false)
	c, err := plex.NewClient(red.URL, testToken, plex.ClientInfo{ID: "id"})
	if err != nil {
		t.Fatal(err)
	}
	f := c.NewFeed(nil)
	f.MinBackoff, f.MaxBackoff = 20*time.Millisecond, 50*time.Millisecond
	var r recorder
	r.attach(f)
	runFeed(t, f)
	waitFor(t, "two refused attempts", 3*time.Second, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		n := 0
		for _, s := range r.states {
			if s.Status == plex.FeedReconnecting && errors.Is(s.Err, plex.ErrRedirectRefused) {
				n++
			}
		}
		return n >= 2
	})
	if n := trap.Hits(); n != 0 {
		t.Errorf("the other host got %d event-stream requests (tokens %q), want none", n, trap.Tokens())
	}
}
