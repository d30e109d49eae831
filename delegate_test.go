package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSmokeWatchHandsOver: the full binary's `watch` runs in the headless
// build beside it (make smoke builds both, of one version, in one folder):
// the process (same PID) runs plexwarden-headless and watches as asked;
// with PLEXWARDEN_NO_DELEGATE it stays in the full binary.
func TestSmokeWatchHandsOver(t *testing.T) {
	bin := smokeBinary(t)
	headless := os.Getenv("PLEXWARDEN_HEADLESS")
	if headless == "" {
		t.Skip("set PLEXWARDEN_HEADLESS to the headless binary (make smoke does)")
	}
	full, _ := filepath.EvalSymlinks(bin)
	slim, _ := filepath.EvalSymlinks(headless)
	if filepath.Dir(full) != filepath.Dir(slim) {
		t.Skipf("%s and %s are not in one folder", full, slim)
	}
	tests := []struct {
		name string
		env  string
		want string
	}{
		{name: "handed over", want: slim},
		{name: "kept", env: "PLEXWARDEN_NO_DELEGATE=1", want: full},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "watch", "--demo")
			cmd.Env = append(os.Environ(), "PLEXWARDEN_CONFIG_DIR="+filepath.Join(home, "config"), "XDG_CONFIG_HOME="+filepath.Join(home, "xdg"))
			if tt.env != "" {
				cmd.Env = append(cmd.Env, tt.env)
			}
			r := startTerminal(t, cmd)
			r.waitFor(t, "Demo server  started   ", 25*time.Second)
			exe, err := os.Readlink("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/exe")
			if err != nil {
				t.Fatal(err)
			}
			if exe != tt.want {
				t.Errorf("process %d runs %s, want %s", cmd.Process.Pid, exe, tt.want)
			}
			r.interrupt(t)
		})
	}
}
