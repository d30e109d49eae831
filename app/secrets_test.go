package app

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

type brokenStore struct{ err error }

func (b brokenStore) Get(context.Context, string) (string, error) { return "", b.err }
func (b brokenStore) Set(context.Context, string, string) error   { return b.err }
func (b brokenStore) Delete(context.Context, string) error        { return b.err }

func TestFallbackStore(t *testing.T) {
	ctx := context.Background()
	unavailable := errors.New("keyring unavailable: The name org.freedesktop.secrets was not provided by any .service files")
	s := NewFallbackStore(brokenStore{err: errors.Join(ErrKeyringUnavailable, unavailable)})
	if err := s.Set(ctx, "m1", "tok"); !errors.Is(err, ErrKeyringUnavailable) {
		t.Fatalf("Set = %v, want ErrKeyringUnavailable", err)
	}
	if got, err := s.Get(ctx, "m1"); err != nil || got != "tok" {
		t.Errorf("Get = %q, %v; want the in-memory token", got, err)
	}
	if s.Unavailable() == nil {
		t.Error("Unavailable() = nil after a keyring failure")
	}
	if err := s.Delete(ctx, "m1"); err != nil {
		t.Errorf("Delete = %v", err)
	}
	if _, err := s.Get(ctx, "m1"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Get after Delete = %v, want ErrNoSecret", err)
	}
}

// The real keyring: gnome-keyring on the private session bus that
// `make test` starts (.ci/with-session). Outside such a session it skips.
func TestKeyringIntegration(t *testing.T) {
	if os.Getenv("PLEXWARDEN_IN_SESSION") == "" {
		t.Skip("needs the test session of `make test` (dbus-run-session + gnome-keyring)")
	}
	ctx := context.Background()
	k := NewKeyring()
	key := "test-machine-" + NewUUID()
	if _, err := k.Get(ctx, key); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("Get of a missing entry = %v, want ErrNoSecret", err)
	}
	steps := []string{"first-token", "replaced-token"}
	for _, tok := range steps {
		if err := k.Set(ctx, key, tok); err != nil {
			t.Fatalf("Set: %v", err)
		}
		got, err := k.Get(ctx, key)
		if err != nil || got != tok {
			t.Fatalf("Get = %q, %v; want %q", got, err, tok)
		}
	}
	if err := k.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(ctx, key); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Get after Delete = %v, want ErrNoSecret", err)
	}
	if err := k.Delete(ctx, key); err != nil {
		t.Errorf("second Delete = %v, want nil", err)
	}
}

// With no usable Secret Service the keyring reports ErrKeyringUnavailable
// with the library's real error text, promptly. The probe runs in a child
// process because the session bus connection is process-wide.
func TestKeyringUnavailable(t *testing.T) {
	if os.Getenv("PLEXWARDEN_KEYRING_PROBE") == "1" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := NewKeyring().Get(ctx, "probe")
		if err == nil {
			os.Stdout.WriteString("RESULT: no error\n")
			return
		}
		os.Stdout.WriteString("RESULT: " + err.Error() + "\n")
		if errors.Is(err, ErrKeyringUnavailable) {
			os.Stdout.WriteString("UNAVAILABLE\n")
		}
		return
	}
	tests := []struct {
		name string
		env  []string
	}{
		{"no session bus", []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus", "PATH=/nonexistent"}},
		{"bus without secret service", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append(os.Environ(), "PLEXWARDEN_KEYRING_PROBE=1")
			if tt.env == nil {
				addr, cleanup := bareSessionBus(t)
				defer cleanup()
				env = append(env, "DBUS_SESSION_BUS_ADDRESS="+addr)
			}
			env = append(env, tt.env...)
			cmd := exec.Command(os.Args[0], "-test.run", "^TestKeyringUnavailable$")
			cmd.Env = env
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), "UNAVAILABLE") {
				t.Fatalf("probe output:\n%s\nwant ErrKeyringUnavailable", out)
			}
			t.Logf("real error text: %s", strings.TrimSpace(strings.SplitN(strings.SplitN(string(out), "RESULT: ", 2)[1], "\n", 2)[0]))
		})
	}
}

// bareSessionBus starts a private dbus-daemon with no services.
func bareSessionBus(t *testing.T) (string, func()) {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Skip("dbus-daemon not installed")
	}
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, err := stdout.Read(buf)
	if err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	return strings.TrimSpace(string(buf[:n])), func() { cmd.Process.Kill(); cmd.Wait() }
}

// TestKeyringStore puts one token into the real OS keyring and reads it
// back, leaving it there for the next step: the Wine test (wine_test.go)
// runs this test's Windows build to store a server token in Windows
// Credential Manager through go-keyring's wincred backend, then has the
// Windows command line read it. PLEXWARDEN_KEYRING_STORE is KEY=TOKEN;
// without it the test skips.
func TestKeyringStore(t *testing.T) {
	spec := os.Getenv("PLEXWARDEN_KEYRING_STORE")
	if spec == "" {
		t.Skip("set PLEXWARDEN_KEYRING_STORE=KEY=TOKEN (the Wine test does)")
	}
	key, token, ok := strings.Cut(spec, "=")
	if !ok || key == "" || token == "" {
		t.Fatalf("PLEXWARDEN_KEYRING_STORE = %q, want KEY=TOKEN", spec)
	}
	ctx := context.Background()
	k := NewKeyring()
	if err := k.Set(ctx, key, token); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, err := k.Get(ctx, key); err != nil || got != token {
		t.Fatalf("Get gave %d bytes (error %v); want the %d-byte token just stored", len(got), err, len(token))
	}
}
