package app

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
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

// With no usable Secret Service, or a locked keyring, the keyring reports
// ErrKeyringUnavailable promptly, in plain words and without the library's
// text (exec: "dbus-launch" …, failed to unlock correct collection …). The
// probe runs in a child process because the session bus connection is
// process-wide.
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
		name    string
		bus     func(t *testing.T) []string // the child's environment
		want    string
		notWant []string
	}{
		{"no session bus", func(t *testing.T) []string {
			return []string{"DBUS_SESSION_BUS_ADDRESS=", "XDG_RUNTIME_DIR=" + t.TempDir(), "PATH=/nonexistent"}
		}, "No keyring service is running (there is no D-Bus session bus", []string{"dbus-launch", "exec:"}},
		{"dead bus address", func(t *testing.T) []string {
			return []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus", "PATH=/nonexistent"}
		}, "No keyring service is running (there is no D-Bus session bus", []string{"/nonexistent"}},
		{"bus without secret service", func(t *testing.T) []string {
			return []string{"DBUS_SESSION_BUS_ADDRESS=" + bareSessionBus(t)}
		}, "No keyring service is running (no Secret Service", []string{"org.freedesktop.secrets was not provided"}},
		{"locked keyring", func(t *testing.T) []string {
			return []string{"DBUS_SESSION_BUS_ADDRESS=" + lockedKeyring(t)}
		}, "Your keyring is locked: unlock it (", []string{"failed to unlock", "collection"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestKeyringUnavailable$")
			cmd.Env = append(append(os.Environ(), "PLEXWARDEN_KEYRING_PROBE=1"), tt.bus(t)...)
			start := time.Now()
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), "UNAVAILABLE") {
				t.Fatalf("probe output:\n%s\nwant ErrKeyringUnavailable", out)
			}
			got := strings.TrimSpace(strings.SplitN(strings.SplitN(string(out), "RESULT: ", 2)[1], "\n", 2)[0])
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("message = %q, want it to start %q", got, tt.want)
			}
			for _, bad := range tt.notWant {
				if strings.Contains(got, bad) {
					t.Errorf("message = %q, want it without the library's %q", got, bad)
				}
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("the probe took %v, want an answer within the keyring timeout", d)
			}
		})
	}
}

// The library's error texts each get their plain-words message.
func TestKeyringErrorWords(t *testing.T) {
	tests := []struct {
		raw    string
		locked bool
		want   string
	}{
		{`exec: "dbus-launch": executable file not found in $PATH`, false, "No keyring service is running (there is no D-Bus session bus"},
		{"The name org.freedesktop.secrets was not provided by any .service files", false, "No keyring service is running (no Secret Service"},
		{"failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'", true, "Your keyring is locked: unlock it ("},
		{"Prompt dismissed", true, "Your keyring is locked: unlock it ("},
		{"something new", false, "No keyring service is running (the keyring failed: something new)"},
	}
	for _, tt := range tests {
		err := keyringError(errors.New(tt.raw))
		var ke *KeyringError
		if !errors.As(err, &ke) || !errors.Is(err, ErrKeyringUnavailable) {
			t.Fatalf("keyringError(%q) = %#v, want a KeyringError matching ErrKeyringUnavailable", tt.raw, err)
		}
		if got := err.Error(); !strings.HasPrefix(got, tt.want) || ke.Locked != tt.locked || ke.Raw != tt.raw {
			t.Errorf("keyringError(%q) = %q (locked %v, raw %q), want prefix %q, locked %v", tt.raw, got, ke.Locked, ke.Raw, tt.want, tt.locked)
		}
	}
}

// lockedKeyring starts a private session bus with gnome-keyring's Secret
// Service on it, creates its login keyring, locks it again, and returns
// the bus address. Nothing can unlock it: there is no prompter.
func lockedKeyring(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gnome-keyring-daemon"); err != nil {
		t.Skip("gnome-keyring-daemon not installed")
	}
	addr := bareSessionBus(t)
	home := t.TempDir()
	if err := os.MkdirAll(home+"/.local/share/keyrings", 0o700); err != nil {
		t.Fatal(err)
	}
	gkd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	gkd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+addr, "HOME="+home, "XDG_DATA_HOME="+home+"/.local/share",
		"XDG_RUNTIME_DIR="+t.TempDir())
	gkd.Stdin = strings.NewReader("plexwarden-test")
	if err := gkd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gkd.Process.Kill(); gkd.Wait() })
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	login := dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	deadline := time.Now().Add(10 * time.Second)
	for {
		var locked []dbus.ObjectPath
		var prompt dbus.ObjectPath
		err := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
			Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{login}).Store(&locked, &prompt)
		if err == nil && len(locked) == 1 {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("could not lock the test keyring: %v (locked %v)", err, locked)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// bareSessionConf is a session bus configuration without service
// directories, so nothing is started on demand: a bus where no Secret
// Service answers even where gnome-keyring is installed.
const bareSessionConf = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// bareSessionBus starts a private dbus-daemon with no services (and none
// it could start) and returns its address; the test's end stops it.
func bareSessionBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Skip("dbus-daemon not installed")
	}
	conf := t.TempDir() + "/session.conf"
	if err := os.WriteFile(conf, []byte(bareSessionConf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address=1")
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
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return strings.TrimSpace(string(buf[:n]))
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
