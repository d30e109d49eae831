package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// unavailableStore is a keyring that cannot be reached, as on a headless
// Linux box with no Secret Service: every call fails.
type unavailableStore struct{}

func (u unavailableStore) Get(context.Context, string) (string, error) {
	return "", fmt.Errorf("%w: no Secret Service on the session bus", ErrKeyringUnavailable)
}
func (u unavailableStore) Set(context.Context, string, string) error {
	return fmt.Errorf("%w: no Secret Service on the session bus", ErrKeyringUnavailable)
}
func (u unavailableStore) Delete(context.Context, string) error {
	return fmt.Errorf("%w: no Secret Service on the session bus", ErrKeyringUnavailable)
}

// TestSignOut adds two simulated servers, signs out, and checks that the
// tokens are gone from the store, nothing is watched any more, and the
// servers stay configured; with an unavailable keyring the error says the
// stored tokens could not be removed.
func TestSignOut(t *testing.T) {
	tests := []struct {
		name    string
		store   func() SecretStore
		wantErr string // "" = none
	}{
		{"keyring", func() SecretStore { return NewMemoryStore() }, ""},
		{"keyring unavailable", func() SecretStore { return NewFallbackStore(unavailableStore{}) }, "stored tokens were not removed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := startSim(t, plexsim.Options{Token: "tok-a", MachineID: "pms-a", FriendlyName: "Den"})
			b := startSim(t, plexsim.Options{Token: "tok-b", MachineID: "pms-b", FriendlyName: "Cabin"})
			store := tc.store()
			ctrl, err := NewController(ControllerOptions{ConfigDir: t.TempDir(), Secrets: store, Getenv: func(string) string { return "" }})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer func() { cancel(); ctrl.Hub().Wait() }()
			if err := ctrl.Start(ctx); err != nil {
				t.Fatal(err)
			}
			for _, s := range []struct{ url, token string }{{a.URL(), "tok-a"}, {b.URL(), "tok-b"}} {
				if _, err := ctrl.AddServer(ctx, NewServer{URL: s.url, Token: s.token}); err != nil && !errors.Is(err, ErrKeyringUnavailable) {
					t.Fatalf("AddServer(%s): %v", s.url, err)
				}
			}
			if got := ctrl.Hub().Servers(); len(got) != 2 {
				t.Fatalf("watched servers before sign-out = %v, want 2", got)
			}

			n, err := ctrl.SignOut(ctx)
			if n != 2 {
				t.Errorf("SignOut signed out of %d servers, want 2", n)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("SignOut: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("SignOut error = %v, want one saying %q", err, tc.wantErr)
			}
			if got := ctrl.Hub().Servers(); len(got) != 0 {
				t.Errorf("watched servers after sign-out = %v, want none", got)
			}
			for _, key := range []string{"pms-a", "pms-b"} {
				if tok, err := store.Get(ctx, key); err == nil {
					t.Errorf("token of %s still stored after sign-out: %q", key, tok)
				}
			}
			if got := ctrl.Config().Servers; len(got) != 2 {
				t.Errorf("configured servers after sign-out = %d, want both kept", len(got))
			}
		})
	}
}

// TestStartWithoutToken: a configured server whose token is gone (signed
// out, keyring emptied) is shown as needing a token, and nothing is sent to
// it: no request without a token, no misleading "token rejected".
func TestStartWithoutToken(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: "tok", MachineID: "pms-den", FriendlyName: "Den"})
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Servers = []ServerConfig{{Name: "Den", URL: sim.URL(), MachineID: "pms-den"}}
	if err := SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	ctrl, err := NewController(ControllerOptions{ConfigDir: dir, Secrets: NewMemoryStore(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer func() { cancel(); ctrl.Hub().Wait() }()
	if err := ctrl.Start(ctx); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("Start = %v, want an error saying the token is missing", err)
	}
	mon := ctrl.Hub().Monitor("Den")
	if mon == nil {
		t.Fatal("Den is not listed at all")
	}
	waitUntil(t, "the no-token status", 5*time.Second, func() bool { return mon.Snapshot().Conn.Status == NoToken })
	if got, want := mon.Snapshot().Conn.Line(time.Now()), "no token: "+NoTokenHint; got != want {
		t.Errorf("status line = %q, want %q", got, want)
	}
	if ctrl.Demo() {
		t.Error("the demo server started although a server is configured")
	}
	if reqs := sim.Requests(); len(reqs) != 0 {
		t.Errorf("%d requests reached the server without a token, want none: %+v", len(reqs), reqs)
	}
}

func TestConnLineForMissingToken(t *testing.T) {
	tests := []struct {
		conn    Conn
		word    string
		line    string
		problem bool
	}{
		{Conn{Status: NoToken, Err: NoTokenHint}, "no token", "no token: " + NoTokenHint, true},
		{Conn{Status: Unauthorized, Err: "unauthorized"}, "token rejected", "token rejected: unauthorized", true},
		{Conn{Status: Connected}, "connected", "connected", false},
	}
	for _, tc := range tests {
		if got := tc.conn.Status.String(); got != tc.word {
			t.Errorf("%v.String() = %q, want %q", tc.conn.Status, got, tc.word)
		}
		if got := tc.conn.Line(time.Now()); got != tc.line {
			t.Errorf("%+v.Line() = %q, want %q", tc.conn, got, tc.line)
		}
		if got := tc.conn.Status.Problem(); got != tc.problem {
			t.Errorf("%v.Problem() = %v, want %v", tc.conn.Status, got, tc.problem)
		}
	}
}
