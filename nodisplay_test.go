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
	r := startTerminal(t, cmd)
	r.waitFor(t, `rule "No 4K transcodes": terminate → done`, 25*time.Second)
	r.interrupt(t)
	stdout, stderr := &r.stdout, &r.stderr
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

// terminalRun is a real binary run as in a terminal, its output kept.
type terminalRun struct {
	cmd            *exec.Cmd
	stdout, stderr testutil.Buffer
	done           chan error
}

// startTerminal starts cmd with its output kept.
func startTerminal(t *testing.T, cmd *exec.Cmd) *terminalRun {
	t.Helper()
	r := &terminalRun{cmd: cmd, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = &r.stdout, &r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- cmd.Wait() }()
	return r
}

// waitFor waits until stdout has text, at most d; else it kills the
// process and fails.
func (r *terminalRun) waitFor(t *testing.T, text string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(r.stdout.String(), text) {
		if time.Now().After(deadline) {
			_ = r.cmd.Process.Kill()
			<-r.done
			t.Fatalf("no %q within %s; stdout:\n%s\nstderr:\n%s", text, d, r.stdout.String(), r.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// interrupt sends Ctrl-C and checks the process ends well within 10 s.
func (r *terminalRun) interrupt(t *testing.T) {
	t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("exit after Ctrl-C: %v\nstderr:\n%s", err, r.stderr.String())
		}
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
		t.Fatal("did not stop after Ctrl-C")
	}
}
