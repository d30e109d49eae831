package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/internal/testutil"
)

// make run on a machine without a display: the real binary says so in one
// line and watches the demo server in the terminal, readably, with no
// D-Bus complaints, until Ctrl-C.
func TestSmokeNoDisplay(t *testing.T) {
	bin := smokeBinary(t)
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XAUTHORITY":
			continue
		}
		env = append(env, kv)
	}
	home := t.TempDir()
	env = append(env, "PLEXWARDEN_CONFIG_DIR="+filepath.Join(home, "config"), "XDG_CONFIG_HOME="+filepath.Join(home, "xdg"))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = env
	var stdout, stderr testutil.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(25 * time.Second)
	for !strings.Contains(stdout.String(), `rule "No 4K transcodes": terminate → done`) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("no rule action within 25 s; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after Ctrl-C: %v", err)
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("did not stop after Ctrl-C")
	}
	errText := stderr.String()
	if first, _, _ := strings.Cut(errText, "\n"); !strings.HasPrefix(first, "No display (DISPLAY and WAYLAND_DISPLAY are unset)") {
		t.Errorf("first stderr line = %q, want the no-display line", first)
	}
	if strings.Contains(strings.ToLower(errText), "dbus") || strings.Contains(errText, "D-Bus") {
		t.Errorf("D-Bus messages on stderr:\n%s", errText)
	}
	if out := stdout.String(); !strings.Contains(out, "Demo server  started   ") || strings.Contains(out, `{"time"`) {
		t.Errorf("stdout is not the plain session lines:\n%s", out)
	}
}
