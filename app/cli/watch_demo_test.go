package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNoDisplay(t *testing.T) {
	tests := []struct {
		goos             string
		display, wayland string
		want             bool
	}{
		{"linux", "", "", true},
		{"linux", ":0", "", false},
		{"linux", "", "wayland-0", false},
		{"freebsd", "", "", true},
		{"darwin", "", "", false},
		{"windows", "", "", false},
	}
	for _, tt := range tests {
		env := map[string]string{"DISPLAY": tt.display, "WAYLAND_DISPLAY": tt.wayland}
		if got := noDisplay(tt.goos, func(k string) string { return env[k] }); got != tt.want {
			t.Errorf("noDisplay(%s, DISPLAY=%q WAYLAND_DISPLAY=%q) = %v, want %v", tt.goos, tt.display, tt.wayland, got, tt.want)
		}
	}
}

// With a display, no command starts the desktop app.
func TestNoCommandWithDisplayStartsApp(t *testing.T) {
	t.Setenv("PLEXWARDEN_CONFIG_DIR", t.TempDir())
	var called atomic.Bool
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := Main(ctx, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "DISPLAY" {
			return ":0"
		}
		return ""
	}, GUI: func(context.Context, GUIOptions) error { called.Store(true); return nil }})
	if code != 0 || !called.Load() {
		t.Errorf("exit %d, desktop app started %v; want 0, started", code, called.Load())
	}
}

// Without a display (make run on a server), no command says so in one line
// and watches the demo server in the terminal: sessions and the demo
// rule's terminate, in plain lines, no JSON, no history written.
func TestNoDisplayWatchesDemo(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	var guiCalled atomic.Bool
	w := startWatchEnv(t, Env{Getenv: func(string) string { return "" },
		GUI: func(context.Context, GUIOptions) error { guiCalled.Store(true); return nil }})
	deadline := time.Now().Add(15 * time.Second) // the 4K rule's grace is 5 s
	want := []string{"Demo server  connected", "started   ", `rule "No 4K transcodes": terminate → done`}
	for {
		out := w.stdout()
		missing := ""
		for _, s := range want {
			if !strings.Contains(out, s) {
				missing = s
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output; stdout:\n%s\nstderr:\n%s", missing, out, w.stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := w.stop(t); code != 0 {
		t.Errorf("exit %d after Ctrl-C, want 0", code)
	}
	if guiCalled.Load() {
		t.Error("the desktop app was started without a display")
	}
	lines := strings.Split(strings.TrimSpace(w.stderr()), "\n")
	if lines[0] != noDisplayText {
		t.Errorf("first stderr line = %q, want %q", lines[0], noDisplayText)
	}
	for _, l := range strings.Split(strings.TrimSpace(w.stdout()), "\n") {
		if strings.HasPrefix(l, "{") {
			t.Errorf("JSON line in the plain output: %s", l)
			break
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "history")); err == nil {
		t.Error("the demo wrote a history in the configuration directory")
	}
}
