package plextv_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/hostile"
	"github.com/plexwarden/plexwarden/plex/plextv"
)

// TestPlexTVRefusesForeignRedirect: a plex.tv stand-in redirecting to
// another host gets its calls refused with an error naming the target,
// and the other host never sees the account token.
func TestPlexTVRefusesForeignRedirect(t *testing.T) {
	const token = "account-token-xyz"
	trap := hostile.NewTrap(t)
	red := hostile.NewRedirector(t, http.StatusTemporaryRedirect, trap.URL, false)
	c := &plextv.Client{BaseURL: red.URL, Info: testInfo, Timeout: 3 * time.Second}
	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"user", func() error { _, err := c.User(ctx, token); return err }},
		{"resources", func() error { _, err := c.Resources(ctx, token); return err }},
		{"create PIN", func() error { _, err := c.CreatePIN(ctx); return err }},
	}
	for _, tt := range calls {
		err := tt.call()
		if !errors.Is(err, plex.ErrRedirectRefused) || !strings.Contains(err.Error(), strings.TrimPrefix(trap.URL, "http://")) {
			t.Errorf("%s: err = %v, want ErrRedirectRefused naming %s", tt.name, err, trap.URL)
		}
	}
	if n := trap.Hits(); n != 0 {
		t.Errorf("the other host got %d requests (tokens %q), want none", n, trap.Tokens())
	}
}

// TestProbeRefusesForeignRedirect: a connection whose /identity redirects
// to another host does not count as an answer, and the probe, given a
// client that would follow anything, still sends nothing there.
func TestProbeRefusesForeignRedirect(t *testing.T) {
	trap := hostile.NewTrap(t)
	red := hostile.NewRedirector(t, http.StatusFound, trap.URL, false)
	res := plextv.Resource{Name: "Den", ClientIdentifier: "pms-den", Owned: true,
		Connections: []plextv.Connection{{Protocol: "http", URI: red.URL, Local: true}}}
	_, err := plextv.Probe(context.Background(), res, plextv.ProbeOptions{Info: testInfo, HTTPClient: &http.Client{}, Timeout: 2 * time.Second})
	if !errors.Is(err, plex.ErrRedirectRefused) {
		t.Errorf("Probe err = %v, want ErrRedirectRefused among the connection errors", err)
	}
	if n := trap.Hits(); n != 0 {
		t.Errorf("the other host got %d probes, want none", n)
	}
}
