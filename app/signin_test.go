package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
	"github.com/plexwarden/plexwarden/plex/plextv"
	"github.com/plexwarden/plexwarden/plex/plextv/plextvsim"
)

// Sign-in end to end against a simulated plex.tv and two simulated
// servers: one owned and reachable, one owned whose only address is dead,
// and one shared (not owned) that must be left out.
func TestControllerSignIn(t *testing.T) {
	const accountToken, serverToken = "account-token-1", "server-token-42"
	pms := startSim(t, plexsim.Options{Token: serverToken, MachineID: "pms-den", FriendlyName: "Den"})
	dead := startSim(t, plexsim.Options{MachineID: "pms-cabin"})
	deadURL := dead.URL()
	dead.Close()

	tv := plextvsim.New(plextvsim.Options{})
	if err := tv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tv.Close() })
	tv.AddToken(accountToken)
	tv.AddServer(plextvsim.ResourceSpec{Name: "Den", MachineID: "pms-den", Owned: true, AccessToken: serverToken,
		Connections: []plextvsim.ConnSpec{{URI: pms.URL(), Local: true}}})
	tv.AddServer(plextvsim.ResourceSpec{Name: "Cabin", MachineID: "pms-cabin", Owned: true, AccessToken: "cabin-token",
		Connections: []plextvsim.ConnSpec{{URI: deadURL, Local: true}}})
	tv.AddServer(plextvsim.ResourceSpec{Name: "Friend", MachineID: "pms-friend", Owned: false, AccessToken: "friend-token",
		Connections: []plextvsim.ConnSpec{{URI: pms.URL()}}})
	old := PlexTVURL
	PlexTVURL = tv.URL()
	t.Cleanup(func() { PlexTVURL = old })

	dir := t.TempDir()
	secrets := NewMemoryStore()
	ctrl, err := NewController(ControllerOptions{ConfigDir: dir, Secrets: secrets, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer func() { cancel(); ctrl.Hub().Wait() }()
	if err := ctrl.Start(ctx); err != nil { // the demo server first
		t.Fatal(err)
	}
	var shown string
	added, err := ctrl.SignIn(ctx, func(authURL, code string) {
		shown = authURL
		go func() { _ = tv.ApproveURL(authURL, accountToken) }() // the user clicks "Allow"
	})
	if len(added) != 1 || added[0] != "Den" {
		t.Fatalf("added %v, want [Den]", added)
	}
	if err == nil || !strings.Contains(err.Error(), "Cabin") {
		t.Errorf("err = %v, want it to name the unreachable Cabin", err)
	}
	if !strings.Contains(shown, "clientID="+ctrl.ClientInfo().ID) {
		t.Errorf("auth URL %q lacks our client id", shown)
	}
	if got, _ := secrets.Get(ctx, "pms-den"); got != serverToken {
		t.Errorf("keyring entry for pms-den = %q, want the server's access token", got)
	}
	if ctrl.Demo() {
		t.Error("the demo server is still running after a real server was added")
	}
	if got := ctrl.Hub().Servers(); len(got) != 1 || got[0] != "Den" {
		t.Errorf("monitored servers = %v, want [Den]", got)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	for _, tok := range []string{accountToken, serverToken} {
		if strings.Contains(string(b), tok) {
			t.Errorf("config.json contains a token:\n%s", b)
		}
	}
	// Same client id on PIN create and poll, tokens never in a URL.
	for _, r := range tv.Requests() {
		if r.TokenInQuery {
			t.Errorf("%s %s sent the token in the query", r.Method, r.Path)
		}
		if got := r.Header.Get("X-Plex-Client-Identifier"); got != ctrl.ClientInfo().ID {
			t.Errorf("%s %s client id = %q, want ours", r.Method, r.Path, got)
		}
	}
}

func TestControllerSignInExpired(t *testing.T) {
	tv := plextvsim.New(plextvsim.Options{PINLifetime: 300 * time.Millisecond})
	if err := tv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tv.Close() })
	old := PlexTVURL
	PlexTVURL = tv.URL()
	t.Cleanup(func() { PlexTVURL = old })
	ctrl, err := NewController(ControllerOptions{ConfigDir: t.TempDir(), Secrets: NewMemoryStore(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = ctrl.SignIn(ctx, func(string, string) {})
	if !errors.Is(err, plextv.ErrPINExpired) {
		t.Fatalf("SignIn = %v, want ErrPINExpired", err)
	}
}

// Sign-in failures read as plain sentences, not chains of wrapped errors,
// and errors.Is still finds the cause.
func TestPlexTVProblem(t *testing.T) {
	wrap := func(sentinel error) error {
		return fmt.Errorf("create PIN: %w", &plex.Error{Op: "create PIN", Server: "https://plex.tv", Err: sentinel, Detail: "dial tcp 1.2.3.4:443: i/o timeout"})
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unreachable", wrap(plex.ErrUnreachable), "Could not reach plex.tv — check this computer's internet connection."},
		{"timeout", wrap(plex.ErrTimeout), "Could not reach plex.tv — check this computer's internet connection."},
		{"certificate", wrap(plex.ErrUntrustedCert), "Could not connect to plex.tv securely: its certificate is not trusted on this computer (a proxy or security software may be intercepting connections)."},
		{"server error", wrap(plex.ErrServer), "plex.tv is having trouble right now — try again in a few minutes."},
		{"rate limited", wrap(plex.ErrRateLimited), "plex.tv asked to slow down — wait a minute, then try again."},
		{"rejected", wrap(plex.ErrUnauthorized), "plex.tv did not accept the sign-in — try again."},
		{"other", wrap(plex.ErrBadRequest), "plex.tv gave an answer Plex Warden did not understand — try again in a few minutes."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlexTVProblem(tt.err)
			if got.Error() != tt.want {
				t.Errorf("PlexTVProblem(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("PlexTVProblem(%v) lost its cause", tt.err)
			}
		})
	}
	for _, pass := range []error{context.Canceled, plextv.ErrPINExpired} {
		if got := PlexTVProblem(pass); got != pass {
			t.Errorf("PlexTVProblem(%v) = %v, want it unchanged", pass, got)
		}
	}
}

// With plex.tv down (a closed port on 127.0.0.1), sign-in says so in one
// sentence.
func TestControllerSignInPlexTVDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	old := PlexTVURL
	PlexTVURL = "http://" + addr
	t.Cleanup(func() { PlexTVURL = old })
	ctrl, err := NewController(ControllerOptions{ConfigDir: t.TempDir(), Secrets: NewMemoryStore(), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = ctrl.SignIn(ctx, func(string, string) { t.Error("showURL called although no PIN was made") })
	if want := "Could not reach plex.tv — check this computer's internet connection."; err == nil || err.Error() != want {
		t.Errorf("SignIn error = %v, want %q", err, want)
	}
	if !errors.Is(err, plex.ErrUnreachable) {
		t.Errorf("SignIn error %v does not wrap plex.ErrUnreachable", err)
	}
}
