//go:build linux || freebsd || openbsd || netbsd

package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetAutostart(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	path := filepath.Join(dir, "autostart", "io.github.plexwarden.plexwarden.desktop")

	if Autostart() {
		t.Fatal("Autostart() = true before any entry exists")
	}
	if err := SetAutostart(false); err != nil {
		t.Fatalf("SetAutostart(false) without an entry: %v", err)
	}
	if err := SetAutostart(true); err != nil {
		t.Fatalf("SetAutostart(true): %v", err)
	}
	if !Autostart() {
		t.Error("Autostart() = false after SetAutostart(true)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("entry not written at %s: %v", path, err)
	}
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	for _, want := range []string{"[Desktop Entry]\n", "Type=Application\n", "Exec=" + execQuote(exe) + "\n", "X-GNOME-Autostart-enabled=true\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("entry lacks %q:\n%s", want, b)
		}
	}
	if !filepath.IsAbs(exe) {
		t.Errorf("Exec path %q is not absolute", exe)
	}

	// A user who switched it off in GNOME's settings is respected.
	off := strings.Replace(string(b), "X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-enabled=false", 1)
	if err := os.WriteFile(path, []byte(off), 0o644); err != nil {
		t.Fatal(err)
	}
	if Autostart() {
		t.Error("Autostart() = true for an entry with X-GNOME-Autostart-enabled=false")
	}

	if err := SetAutostart(false); err != nil {
		t.Fatalf("SetAutostart(false): %v", err)
	}
	if Autostart() {
		t.Error("Autostart() = true after SetAutostart(false)")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("entry still exists after SetAutostart(false): %v", err)
	}
}

// An entry written under the old name (plexwarden.desktop) still counts,
// and enabling or disabling replaces it with the one named after the app id.
func TestAutostartOldName(t *testing.T) {
	tests := []struct {
		name    string
		enable  bool
		wantNew bool
	}{
		{"enable", true, true},
		{"disable", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", dir)
			old := filepath.Join(dir, "autostart", "plexwarden.desktop")
			cur := filepath.Join(dir, "autostart", AppID+".desktop")
			if err := os.MkdirAll(filepath.Dir(old), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(old, []byte(desktopEntry("/usr/bin/plexwarden")), 0o644); err != nil {
				t.Fatal(err)
			}
			if !Autostart() {
				t.Error("Autostart() = false with an entry under the old name")
			}
			if err := SetAutostart(tt.enable); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(old); !os.IsNotExist(err) {
				t.Errorf("the old entry is still there (%v)", err)
			}
			_, err := os.Stat(cur)
			if got := err == nil; got != tt.wantNew {
				t.Errorf("entry %s exists = %v, want %v", cur, got, tt.wantNew)
			}
			if got := Autostart(); got != tt.enable {
				t.Errorf("Autostart() = %v, want %v", got, tt.enable)
			}
		})
	}
}

func TestSetAutostartError(t *testing.T) {
	dir := t.TempDir()
	// A file where the autostart folder should be.
	if err := os.WriteFile(filepath.Join(dir, "autostart"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CONFIG_HOME", dir)
	err := SetAutostart(true)
	if err == nil || !strings.Contains(err.Error(), "autostart folder") {
		t.Errorf("SetAutostart(true) with a file in the way = %v, want an error naming the autostart folder", err)
	}
}

func TestExecQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/bin/plexwarden", "/usr/bin/plexwarden"},
		{"/opt/Plex Warden/plexwarden", `"/opt/Plex Warden/plexwarden"`},
		{`/home/a"b/pw`, `"/home/a\\"b/pw"`},
		{`/home/$USER/pw`, `"/home/\\$USER/pw"`},
		{`/x\y/pw`, `"/x\\\\y/pw"`},
		{"/100%/pw", "/100%%/pw"},
	}
	for _, tt := range tests {
		if got := execQuote(tt.in); got != tt.want {
			t.Errorf("execQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAutostartEnabled(t *testing.T) {
	tests := []struct {
		entry string
		want  bool
	}{
		{desktopEntry("/usr/bin/plexwarden"), true},
		{"[Desktop Entry]\nHidden=true\n", false},
		{"[Desktop Entry]\nX-GNOME-Autostart-enabled=false\n", false},
		{"garbage", false},
	}
	for _, tt := range tests {
		if got := autostartEnabled(tt.entry); got != tt.want {
			t.Errorf("autostartEnabled(%q) = %v, want %v", tt.entry, got, tt.want)
		}
	}
}

// TestAutostartEntryValidates runs desktop-file-validate on the XDG
// autostart entry that SetAutostart writes, for plain and awkward program
// paths (make deb-test sets PLEXWARDEN_VALIDATE_AUTOSTART and installs the
// validator; elsewhere the test skips).
func TestAutostartEntryValidates(t *testing.T) {
	if os.Getenv("PLEXWARDEN_VALIDATE_AUTOSTART") == "" {
		t.Skip("set PLEXWARDEN_VALIDATE_AUTOSTART=1 (make deb-test does)")
	}
	validator, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		t.Fatal("desktop-file-validate is not installed (desktop-file-utils)")
	}
	for _, exe := range []string{"/usr/bin/plexwarden", "/home/me/My Apps/plex warden", `/opt/a"b$c\d%e/plexwarden`} {
		path := filepath.Join(t.TempDir(), "plexwarden.desktop")
		if err := os.WriteFile(path, []byte(desktopEntry(exe)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(validator, path).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("desktop-file-validate on the entry for %q: %v\n%s", exe, err, out)
		}
	}
}
