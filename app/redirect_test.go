package app

import (
	"errors"
	"net/http"
	"testing"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/hostile"
)

// TestHTTPClientForRefusesForeignRedirect: the HTTP client every server
// (and the address watch's probes) uses follows the one redirect policy
// itself, whatever wraps it.
func TestHTTPClientForRefusesForeignRedirect(t *testing.T) {
	trap := hostile.NewTrap(t)
	red := hostile.NewRedirector(t, http.StatusFound, trap.URL, false)
	for _, sc := range []ServerConfig{{Name: "plain"}, {Name: "insecure", Insecure: true}} {
		hc, err := HTTPClientFor(sc)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, red.URL+"/status/sessions", nil)
		req.Header.Set("X-Plex-Token", "tok")
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, plex.ErrRedirectRefused) {
			t.Errorf("%s: err = %v, want ErrRedirectRefused", sc.Name, err)
		}
		hc.CloseIdleConnections()
	}
	if n := trap.Hits(); n != 0 {
		t.Errorf("the other host got %d requests, want none", n)
	}
}
