package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
)

// TestWine runs the Windows builds of `make windows` and the installer of
// `make windows-installer` under Wine (make wine-test, part of make test):
// the command line gives the same output as the Linux binary against the
// same simulated server, a token goes into Windows Credential Manager
// (go-keyring's wincred backend, which Wine implements) and back out
// through the command line without landing in any file of the Wine
// prefix, the desktop app shows its window and quits from its tray menu
// with exit code 0, and the installer installs and uninstalls silently,
// keeping the user's settings and tokens (or, with /PURGE, deleting them). PLEXWARDEN_WINE_DIR is
// dist/windows; without it the test skips.
func TestWine(t *testing.T) {
	dir := os.Getenv("PLEXWARDEN_WINE_DIR")
	if dir == "" {
		t.Skip("set PLEXWARDEN_WINE_DIR to the Windows builds (make wine-test does)")
	}
	linux := os.Getenv("PLEXWARDEN_SMOKE")
	if linux == "" || os.Getenv("DISPLAY") == "" {
		t.Fatal("the Wine test needs PLEXWARDEN_SMOKE (the Linux binary) and DISPLAY (run it through .ci/with-session)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	w := newWine(t, ctx, filepath.Join(dir, "bcryptprimitives.dll"))
	cli := filepath.Join(dir, "plexwarden-headless.exe")

	t.Run("cli", func(t *testing.T) {
		// version: the same line as the Linux binary's, the version make built.
		want := "plexwarden " + os.Getenv("PLEXWARDEN_VERSION") + "\n"
		if out, errOut, err := w.run(ctx, cli, nil, "version"); err != nil || out != want {
			t.Errorf("Windows version: %q, %v (stderr %q); want %q", out, err, errOut, want)
		}
		if out, _ := exec.CommandContext(ctx, linux, "version").Output(); string(out) != want {
			t.Errorf("Linux version: %q, want %q", out, want)
		}

		// sessions --json: each binary against a fresh simulator on the
		// same address, so both see the same server.
		port := freePort(t)
		env := []string{"PLEX_URL=http://127.0.0.1:" + port, "PLEX_TOKEN=wine-test-token", "PLEXWARDEN_CONFIG_DIR=" + t.TempDir()}
		var got [2][]map[string]any
		for i, runOn := range []string{"linux", "windows"} {
			stop := startSim(t, ctx, linux, port, "")
			var out, errOut string
			var err error
			if runOn == "linux" {
				out, errOut, err = runLinux(ctx, linux, env, "sessions", "--json")
			} else {
				out, errOut, err = w.run(ctx, cli, env, "sessions", "--json")
			}
			stop()
			if err != nil {
				t.Fatalf("%s sessions --json: %v\n%s", runOn, err, errOut)
			}
			if err := json.Unmarshal([]byte(out), &got[i]); err != nil {
				t.Fatalf("%s sessions --json is not a JSON list: %v\n%s", runOn, err, out)
			}
			for _, s := range got[i] { // when this process first saw it
				delete(s, "firstSeen")
				delete(s, "stateSince")
			}
		}
		if len(got[0]) == 0 || !reflect.DeepEqual(got[0], got[1]) {
			t.Errorf("sessions --json differ (or are empty):\nLinux:   %v\nWindows: %v", got[0], got[1])
		}

		// watch --json --dry-run with a rule: the lines up to the first
		// rule action, without their times.
		rules := t.TempDir()
		if err := os.WriteFile(filepath.Join(rules, "rules.json"), []byte(`{"version":1,"rules":[{"name":"No transcodes","kind":"transcode"}]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		env = []string{"PLEX_URL=http://127.0.0.1:" + port, "PLEX_TOKEN=wine-test-token", "PLEXWARDEN_CONFIG_DIR=" + rules}
		var lines [2][]string
		for i, runOn := range []string{"linux", "windows"} {
			stop := startSim(t, ctx, linux, port, "")
			var cmd *exec.Cmd
			if runOn == "linux" {
				cmd = exec.CommandContext(ctx, linux)
				cmd.Env = append(os.Environ(), env...)
			} else {
				cmd = w.command(ctx, cli, env)
			}
			cmd.Args = append(cmd.Args, "watch", "--json", "--dry-run", "--history", "off")
			lines[i] = watchUntilAction(t, cmd)
			stop()
		}
		if len(lines[0]) < 3 || !reflect.DeepEqual(lines[0], lines[1]) {
			t.Errorf("watch --json --dry-run differ (or have no action):\nLinux:\n%s\nWindows:\n%s",
				strings.Join(lines[0], "\n"), strings.Join(lines[1], "\n"))
		}
	})

	// The server whose token goes into Credential Manager.
	token := "wine-" + randomHex(t, 16)
	port := freePort(t)
	addr := "127.0.0.1:" + port
	sum := sha256.Sum256([]byte(addr)) // the simulator's machine id (cmdSimulate)
	machineID := "plexsim-" + hex.EncodeToString(sum[:6])
	credName := []byte("plexwarden:" + machineID) // go-keyring's target name, in Wine's registry
	// sessionsWithKeyring runs the Windows command line for the configured
	// server with no token given: the simulator accepts only the one in
	// Credential Manager.
	sessionsWithKeyring := func(t *testing.T, cli string) error {
		t.Helper()
		stop := startSim(t, ctx, linux, port, token)
		defer stop()
		out, errOut, err := w.run(ctx, cli, nil, "sessions", "--json")
		var sessions []map[string]any
		if err != nil || json.Unmarshal([]byte(out), &sessions) != nil || len(sessions) == 0 || sessions[0]["server"] != "Wine sim" {
			return fmt.Errorf("sessions with the keyring token: %v\nstdout %.300s\nstderr %s", err, out, errOut)
		}
		return nil
	}

	t.Run("keyring", func(t *testing.T) {
		// The token goes in through the real keyring code (app.Keyring →
		// go-keyring → wincred), built for Windows as app's test binary.
		out, errOut, err := w.run(ctx, filepath.Join(dir, "app.test.exe"), []string{"PLEXWARDEN_KEYRING_STORE=" + machineID + "=" + token},
			"-test.run", "^TestKeyringStore$", "-test.v")
		if err != nil || !strings.Contains(out, "--- PASS: TestKeyringStore") {
			t.Fatalf("storing the token in Credential Manager: %v\n%s%s", err, out, errOut)
		}
		// The Windows command line reads it back for a configured server:
		// the simulator accepts only this token, and none is given.
		cfgDir := filepath.Join(w.appData, "plexwarden")
		if err := app.SaveConfig(filepath.Join(cfgDir, "config.json"), app.Config{Version: 1,
			Servers: []app.ServerConfig{{Name: "Wine sim", URL: "http://" + addr, MachineID: machineID}}}); err != nil {
			t.Fatal(err)
		}
		if err := sessionsWithKeyring(t, cli); err != nil {
			t.Fatal(err)
		}
		// Nothing under the prefix holds it, once wineserver has written
		// the registry out; Wine's credential store is there (it keeps the
		// secret encrypted in user.reg).
		w.flush(ctx)
		reg, err := os.ReadFile(filepath.Join(w.prefix, "user.reg"))
		if err != nil || !bytes.Contains(reg, []byte(`Credential Manager`)) || !bytes.Contains(reg, credName) {
			t.Errorf("user.reg has no Credential Manager entry %s (err %v): was the token stored at all?", credName, err)
		}
		if files := filesContaining(t, w.prefix, token); len(files) > 0 {
			t.Errorf("the token is in plain text in %v", files)
		}
	})

	t.Run("gui", func(t *testing.T) {
		gctx, gcancel := context.WithTimeout(ctx, 2*time.Minute)
		defer gcancel()
		cmd := w.command(gctx, filepath.Join(dir, "plexwarden.exe"), nil)
		cmd.Args = append(cmd.Args, "demo")
		exited := startApp(t, cmd)
		xdo := func(args ...string) string {
			t.Helper()
			out, err := exec.CommandContext(gctx, "xdotool", args...).CombinedOutput()
			if err != nil {
				t.Fatalf("xdotool %v: %v %s", args, err, out)
			}
			return string(out)
		}
		xdo("search", "--sync", "--onlyvisible", "--name", "^Plex Warden$")
		time.Sleep(3 * time.Second) // the demo's first sessions render
		shot := filepath.Join(t.TempDir(), "wine-window.png")
		if out, err := exec.CommandContext(gctx, "import", "-window", "root", shot).CombinedOutput(); err != nil {
			t.Fatalf("screenshot: %v %s", err, out)
		}
		if n := distinctColours(t, shot); n < 16 {
			t.Errorf("screenshot has %d distinct colours: blank window?", n)
		}
		if d := os.Getenv("PLEXWARDEN_SHOT_DIR"); d != "" {
			b, _ := os.ReadFile(shot)
			_ = os.WriteFile(filepath.Join(d, "wine-window.png"), b, 0o644)
		}
		// Closing the window (WM_CLOSE) hides it to the tray; the app runs on.
		if out, _, err := w.run(gctx, "taskkill", nil, "/im", "plexwarden.exe"); err != nil {
			t.Fatalf("taskkill: %v %s", err, out)
		}
		time.Sleep(2 * time.Second)
		if cmd.ProcessState != nil {
			t.Fatalf("closing the window ended the app")
		}
		// Quit from the tray menu: Wine shows the notification area icon in
		// its own "Wine System Tray" window; right-click it, last item.
		tray := strings.Fields(xdo("search", "--name", "^Wine System Tray$"))
		if len(tray) == 0 {
			t.Fatal("no Wine System Tray window: the tray icon was not added")
		}
		geo := map[string]int{}
		for _, l := range strings.Fields(xdo("getwindowgeometry", "--shell", tray[0])) {
			k, v, _ := strings.Cut(l, "=")
			var n int
			fmt.Sscan(v, &n)
			geo[k] = n
		}
		xdo("mousemove", fmt.Sprint(geo["X"]+10), fmt.Sprint(geo["Y"]+10), "click", "3")
		time.Sleep(time.Second)
		xdo("key", "Up", "Return") // Quit is the menu's last item
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("exit after Quit: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("the app did not exit within 20s of Quit from the tray menu")
		}
	})

	t.Run("installer", func(t *testing.T) {
		setup := os.Getenv("PLEXWARDEN_INSTALLER")
		if setup == "" {
			t.Skip("set PLEXWARDEN_INSTALLER to dist/plexwarden-setup.exe (make wine-test does)")
		}
		local := filepath.Join(filepath.Dir(w.appData), "Local", "Programs", "Plex Warden")
		startMenu := filepath.Join(w.appData, "Microsoft", "Windows", "Start Menu", "Programs", "Plex Warden.lnk")
		if out, errOut, err := w.run(ctx, setup, nil, "/S", "/AUTOSTART"); err != nil {
			t.Fatalf("silent install: %v %s %s", err, out, errOut)
		}
		w.flush(ctx)
		for _, f := range []string{filepath.Join(local, "plexwarden.exe"), filepath.Join(local, "plexwarden-headless.exe"),
			filepath.Join(local, "Uninstall.exe"), startMenu} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("after install: %v", err)
			}
		}
		if reg, _ := os.ReadFile(filepath.Join(w.prefix, "user.reg")); !bytes.Contains(reg, []byte(`"PlexWarden"="\"`)) ||
			!bytes.Contains(reg, []byte(`Plex Warden\\plexwarden.exe\""`)) {
			t.Error("no start-at-login value (HKCU Run PlexWarden = \"…\\Plex Warden\\plexwarden.exe\") after /AUTOSTART")
		}
		want := "plexwarden " + os.Getenv("PLEXWARDEN_VERSION") + "\n"
		if out, errOut, err := w.run(ctx, filepath.Join(local, "plexwarden-headless.exe"), nil, "version"); err != nil || out != want {
			t.Errorf("installed plexwarden-headless version: %q, %v %s; want %q", out, err, errOut, want)
		}

		// Silent uninstall (_?= keeps it in the foreground): the program,
		// shortcut and Run value go; settings and the keyring token stay.
		cfg := filepath.Join(w.appData, "plexwarden", "config.json")
		if _, err := os.Stat(cfg); err != nil {
			t.Fatalf("no settings to keep (the keyring step writes them): %v", err)
		}
		winLocal := `C:\users\` + filepath.Base(filepath.Dir(filepath.Dir(w.appData))) + `\AppData\Local\Programs\Plex Warden`
		if out, errOut, err := w.run(ctx, filepath.Join(local, "Uninstall.exe"), nil, "/S", "_?="+winLocal); err != nil {
			t.Fatalf("silent uninstall: %v %s %s", err, out, errOut)
		}
		w.flush(ctx)
		for _, f := range []string{filepath.Join(local, "plexwarden.exe"), filepath.Join(local, "plexwarden-headless.exe"), startMenu} {
			if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after uninstall %s: %v, want it gone", f, err)
			}
		}
		if reg, _ := os.ReadFile(filepath.Join(w.prefix, "user.reg")); bytes.Contains(reg, []byte(`"PlexWarden"=`)) {
			t.Error("the start-at-login value is still there after uninstall")
		}
		if _, err := os.Stat(cfg); err != nil {
			t.Errorf("the uninstaller removed the settings: %v", err)
		}
		if err := sessionsWithKeyring(t, cli); err != nil {
			t.Errorf("after uninstall the saved token is not usable: %v", err)
		}

		// Reinstall, then uninstall with /PURGE: settings and the token go.
		if out, errOut, err := w.run(ctx, setup, nil, "/S"); err != nil {
			t.Fatalf("second silent install: %v %s %s", err, out, errOut)
		}
		if out, errOut, err := w.run(ctx, filepath.Join(local, "Uninstall.exe"), nil, "/S", "/PURGE", "_?="+winLocal); err != nil {
			t.Fatalf("silent uninstall /PURGE: %v %s %s", err, out, errOut)
		}
		w.flush(ctx)
		if _, err := os.Stat(filepath.Dir(cfg)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after uninstall /PURGE the settings directory: %v, want it gone", err)
		}
		if reg, _ := os.ReadFile(filepath.Join(w.prefix, "user.reg")); bytes.Contains(reg, credName) {
			t.Errorf("after uninstall /PURGE Credential Manager still holds %s", credName)
		}
	})
}

// wine is one Wine prefix, made once for the test (wineboot takes ~10 s).
type wine struct {
	prefix  string
	appData string // the user's AppData\Roaming in the prefix
	env     []string
}

func newWine(t *testing.T, ctx context.Context, shim string) *wine {
	t.Helper()
	w := &wine{prefix: filepath.Join(t.TempDir(), "prefix")}
	w.env = append(os.Environ(), "WINEPREFIX="+w.prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=",
		"PLEX_URL=", "PLEX_TOKEN=", "PLEXWARDEN_CONFIG_DIR=")
	start := time.Now()
	boot := exec.CommandContext(ctx, "wine", "wineboot", "--init")
	boot.Env = w.env
	if out, err := boot.CombinedOutput(); err != nil {
		t.Fatalf("wineboot --init: %v\n%s", err, out)
	}
	w.flush(ctx)
	t.Logf("Wine prefix made in %v", time.Since(start).Round(time.Second))
	// Go needs ProcessPrng, which Wine 8 lacks (.ci/wine/bcryptprimitives.c).
	b, err := os.ReadFile(shim)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	users, _ := filepath.Glob(filepath.Join(w.prefix, "drive_c", "users", "*", "AppData", "Roaming"))
	for _, u := range users {
		if !strings.Contains(u, string(filepath.Separator)+"Public"+string(filepath.Separator)) {
			w.appData = u
		}
	}
	if w.appData == "" {
		t.Fatalf("no user AppData in the Wine prefix (%v)", users)
	}
	t.Cleanup(func() {
		k := exec.Command("wineserver", "-k")
		k.Env = w.env
		_ = k.Run()
	})
	return w
}

// command returns wine running exe with extra environment variables.
func (w *wine) command(ctx context.Context, exe string, env []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "wine", exe)
	cmd.Env = append(append([]string(nil), w.env...), env...)
	// A wineserver that the program started may hold its output pipes
	// open after it exits: stop waiting for them shortly after the exit.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs exe under Wine and returns its stdout and stderr.
func (w *wine) run(ctx context.Context, exe string, env []string, args ...string) (string, string, error) {
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := w.command(rctx, exe, env)
	cmd.Args = append(cmd.Args, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// flush waits for wineserver to exit, which writes the registry to disk.
func (w *wine) flush(ctx context.Context) {
	cmd := exec.CommandContext(ctx, "wineserver", "-w")
	cmd.Env = w.env
	_ = cmd.Run()
}

func runLinux(ctx context.Context, bin string, env []string, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// startSim runs the Linux binary's simulator on 127.0.0.1:port (accepting
// only token when it is set; sessions that never change) and returns a function that stops it.
func startSim(t *testing.T, ctx context.Context, bin, port, token string) func() {
	t.Helper()
	sctx, cancel := context.WithCancel(ctx)
	// --still: the demo's sessions without its scripted changes, so two
	// runs a few seconds apart see the same server.
	args := []string{"simulate", "--addr", "127.0.0.1:" + port, "--still"}
	if token != "" {
		args = append(args, "--token", token)
	}
	cmd := exec.CommandContext(sctx, bin, args...)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	stop := func() {
		cancel()
		_ = cmd.Wait()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + port + "/identity")
		if err == nil {
			resp.Body.Close()
			return stop
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("the simulator did not answer on port %s: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// stillSessions is how many sessions `simulate --still` plays.
const stillSessions = 6

// watchUntilAction runs a watch command and reads its JSON lines until it
// has printed the start of every session of `simulate --still` and a rule
// action, without their times, in a fixed order: the engine acts before the
// update is printed (reaction first), so where the action falls among the
// session lines depends on timing, not on the platform.
func watchUntilAction(t *testing.T, cmd *exec.Cmd) []string {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var got []string
	acted, started := false, 0
	timeout := time.After(30 * time.Second)
read:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break read
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Errorf("not a JSON line: %q", l)
				continue
			}
			delete(m, "time")
			delete(m, "latencyMs")
			b, _ := json.Marshal(m) // sorted keys
			got = append(got, string(b))
			if m["kind"] == "action" {
				acted = true
			}
			if m["event"] == "started" {
				started++
			}
			if acted && started >= stillSessions {
				break read
			}
		case <-timeout:
			t.Errorf("no rule action within 30s; stderr: %s", errOut.String())
			break read
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait() // closes the pipe, so the reader ends
	for range lines {
	}
	slices.Sort(got)
	return got
}

// filesContaining lists the regular files under root whose bytes hold s,
// as UTF-8 or as UTF-16LE (Windows' own encoding). Symbolic links (the
// prefix's drive letters point at /) are not followed.
func filesContaining(t *testing.T, root, s string) []string {
	t.Helper()
	u16 := make([]byte, 0, 2*len(s))
	for _, c := range []byte(s) {
		u16 = append(u16, c, 0)
	}
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err == nil && (bytes.Contains(b, []byte(s)) || bytes.Contains(b, u16)) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
