package app

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigRoundTripAndMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.json")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("missing file: %v", err)
	}
	if len(cfg.Servers) != 0 || cfg.Notifications.NewSession || !cfg.Notifications.TranscodeStarted {
		t.Errorf("default config = %+v, want no servers, new-session popups off, transcode popups on", cfg)
	}
	cfg.Servers = []ServerConfig{{Name: "Den", URL: "http://10.0.0.2:32400", MachineID: "m1",
		Connections: []ServerConnection{{URI: "http://10.0.0.2:32400", Local: true}, {URI: "https://relay.example:8443", Relay: true}}}}
	cfg.Reconcile = Duration(45 * time.Second)
	if err := SaveConfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %o, want 600", mode)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Servers[0], cfg.Servers[0]) || got.Reconcile != cfg.Reconcile || got.Version != ConfigVersion {
		t.Errorf("loaded %+v, want %+v", got, cfg)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"reconcileInterval": "45s"`) {
		t.Errorf("durations should be written as text:\n%s", b)
	}
	// A second save keeps the previous file as a backup.
	cfg.StartAtLogin = true
	if err := SaveConfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	bak, err := LoadConfig(path + ".bak")
	if err != nil || bak.StartAtLogin {
		t.Errorf("backup = %+v, %v; want the previous version", bak, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestConfigBrokenFilesAreNeverReplaced(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"syntax", "{\n  \"servers\": [\n    {\"name\": \"a\",}\n  ]\n}", "line 3"},
		{"unknown field", `{"servers":[],"bogus":1}`, "unknown field"},
		{"wrong type", `{"servers":"x"}`, "cannot unmarshal"},
		{"newer schema", `{"version":99}`, "newer Plex Warden"},
		{"duplicate server", `{"servers":[{"name":"a","url":"http://x"},{"name":"a","url":"http://y"}]}`, "used twice"},
		{"server without url", `{"servers":[{"name":"a"}]}`, "no url"},
		{"bad duration", `{"reconcileInterval":"soon"}`, "bad duration"},
		{"too short", `{"reconcileInterval":"10ms"}`, "too short"},
		{"empty file", ``, "the file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path)
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("LoadConfig = %v, want a ConfigError naming the file and %q", err, tt.want)
			}
			b, _ := os.ReadFile(path)
			if string(b) != tt.body {
				t.Errorf("the broken file was changed")
			}
			// The controller refuses to start on it rather than resetting it.
			if _, err := NewController(ControllerOptions{ConfigDir: filepath.Dir(path), Secrets: NewMemoryStore()}); !errors.As(err, &ce) {
				t.Errorf("NewController = %v, want the ConfigError", err)
			}
		})
	}
}

func TestClientIDPersists(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadClientID(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadClientID(dir)
	if err != nil || a != b {
		t.Errorf("second load = %q, %v; want %q", b, err, a)
	}
	if len(a) != 36 || a[14] != '4' {
		t.Errorf("id %q is not a v4 UUID", a)
	}
	if c := NewUUID(); c == a {
		t.Error("two UUIDs are equal")
	}
}

// New-session popups are off by default, but a saved file keeps the
// admin's explicit choice either way.
func TestConfigNewSessionDefault(t *testing.T) {
	tests := []struct {
		name string
		file string // "" = no file
		want bool
	}{
		{"first run", "", false},
		{"saved on", `{"version":1,"servers":[],"notifications":{"newSession":true,"transcodeStarted":true}}`, true},
		{"saved off", `{"version":1,"servers":[],"notifications":{"newSession":false,"transcodeStarted":true}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if tt.file != "" {
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Notifications.NewSession; got != tt.want {
				t.Errorf("NewSession = %v, want %v", got, tt.want)
			}
		})
	}
}
