package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex/plexsim"
	"github.com/plexwarden/plexwarden/plex/plextv/plextvsim"
)

// writeServers saves a configuration with servers in dir.
func writeServers(t *testing.T, dir string, servers ...app.ServerConfig) {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Servers = servers
	if err := app.SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
}

// runEnv runs the command line with env's variables and secrets.
func runEnv(secrets app.SecretStore, vars map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code := Main(ctx, Env{Args: args, Stdout: &out, Stderr: &errb, Secrets: secrets, Version: "test",
		Getenv: func(k string) string { return vars[k] }})
	return code, out.String(), errb.String()
}

// A server whose token is missing, and one that does not answer, never
// stop the others: sessions lists what it reached, says what it skipped
// (as "no-token" / "unreachable" with --json) and exits ExitPartial;
// terminate finds the session on the server that has it; watch says
// "no-token" and watches the rest.
func TestServerWithoutTokenAmongSeveral(t *testing.T) {
	den := startSim(t, plexsim.Options{Token: "den-token", MachineID: "m-den", PlexPass: true, PingInterval: time.Hour})
	cabin := startSim(t, plexsim.Options{Token: "cabin-token", MachineID: "m-cabin", PlexPass: true, PingInterval: time.Hour})
	attic := startSim(t, plexsim.Options{Token: "attic-token", MachineID: "m-attic", PlexPass: true})
	den.AddSession(plexsim.SessionSpec{User: "alice"})
	ref := cabin.AddSession(plexsim.SessionSpec{User: "bob"})
	attic.AddSession(plexsim.SessionSpec{User: "carol"})
	dir := t.TempDir()
	t.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	gone := deadURL(t)
	writeServers(t, dir,
		app.ServerConfig{Name: "Attic", URL: attic.URL(), MachineID: "m-attic"}, // its keyring entry was removed
		app.ServerConfig{Name: "Den", URL: den.URL(), MachineID: "m-den"},
		app.ServerConfig{Name: "Cabin", URL: cabin.URL(), MachineID: "m-cabin"})
	secrets := app.NewMemoryStore()
	_ = secrets.Set(context.Background(), "m-den", "den-token")
	_ = secrets.Set(context.Background(), "m-cabin", "cabin-token")

	code, out, errText := runEnv(secrets, nil, "sessions")
	if code != ExitPartial || !strings.Contains(out, "alice") || !strings.Contains(out, "bob") || strings.Contains(out, "carol") {
		t.Errorf("sessions: exit %d (want %d), stdout:\n%s\nstderr:\n%s", code, ExitPartial, out, errText)
	}
	for _, want := range []string{`server "Attic": no token in the system keyring (sign in again with "plexwarden login"); skipped`, "1 of 3 servers could not be listed"} {
		if !strings.Contains(errText, want) {
			t.Errorf("sessions stderr lacks %q:\n%s", want, errText)
		}
	}

	// --json: stdout stays a JSON array; stderr has one object per problem.
	writeServers(t, dir,
		app.ServerConfig{Name: "Attic", URL: attic.URL(), MachineID: "m-attic"},
		app.ServerConfig{Name: "Den", URL: den.URL(), MachineID: "m-den"},
		app.ServerConfig{Name: "Gone", URL: gone, MachineID: "m-den"})
	code, out, errText = runEnv(secrets, nil, "sessions", "--json")
	var got []app.Session
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 || got[0].User != "alice" {
		t.Errorf("sessions --json stdout = %q (%v), want alice's session alone", out, err)
	}
	if code != ExitPartial {
		t.Errorf("sessions --json: exit %d, want %d", code, ExitPartial)
	}
	states := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(errText), "\n") {
		var p serverProblem
		if json.Unmarshal([]byte(l), &p) == nil && p.Server != "" {
			states[p.Server] = p.State
		}
	}
	if states["Attic"] != "no-token" || states["Gone"] != "unreachable" || len(states) != 2 {
		t.Errorf("--json problems = %v, want Attic no-token and Gone unreachable; stderr:\n%s", states, errText)
	}

	// Nothing reachable at all is a plain failure, not a partial one.
	writeServers(t, dir, app.ServerConfig{Name: "Attic", URL: attic.URL(), MachineID: "m-attic"})
	if code, _, errText := runEnv(secrets, nil, "sessions"); code != 1 || !strings.Contains(errText, `server "Attic": no token`) {
		t.Errorf("only a tokenless server: exit %d, %q; want 1 naming it", code, errText)
	}

	writeServers(t, dir,
		app.ServerConfig{Name: "Attic", URL: attic.URL(), MachineID: "m-attic"},
		app.ServerConfig{Name: "Den", URL: den.URL(), MachineID: "m-den"},
		app.ServerConfig{Name: "Cabin", URL: cabin.URL(), MachineID: "m-cabin"})
	if code, out, errText := runEnv(secrets, nil, "terminate", ref.ID); code != 0 || !strings.Contains(out, "on Cabin") {
		t.Errorf("terminate with a tokenless server first: exit %d, %q, %q", code, out, errText)
	}
	if len(attic.Calls()) != 0 {
		t.Errorf("the tokenless server was contacted: %+v", attic.Calls())
	}

	w := startWatchEnv(t, Env{Args: []string{"watch", "--json", "--history", "off"}, Secrets: secrets, Getenv: func(string) string { return "" }})
	w.waitOutput(t, "the others connected", func(s string) bool { return strings.Count(s, `"event":"connected"`) == 2 })
	if code := w.stop(t); code != 0 {
		t.Errorf("watch: exit %d, %s", code, w.stderr())
	}
	var noToken []string
	for _, l := range parseLines(t, w.stdout()) {
		if l["event"] == "no-token" {
			noToken = append(noToken, l["server"].(string))
		}
	}
	if len(noToken) != 1 || noToken[0] != "Attic" {
		t.Errorf("no-token lines for %v, want Attic; stdout:\n%s", noToken, w.stdout())
	}
}

// login --token-file keeps the tokens in a private file (never in the
// output or the configuration); the other commands read it through
// --token-file, PLEX_TOKEN_FILE or the systemd credential; logout
// --token-file empties it.
func TestLoginTokenFile(t *testing.T) {
	const account, serverTok = "acct-FILE-1", "srv-FILE-2"
	dir := t.TempDir()
	setLoginHooks(t, failingKeyring{}) // the keyring must not be needed
	pms := startSim(t, plexsim.Options{MachineID: "home-1", Token: serverTok, PlexPass: true})
	pms.AddSession(plexsim.SessionSpec{User: "alice"})
	tv := startTVSim(t, plextvsim.Options{})
	tv.AddServer(plextvsim.ResourceSpec{Name: "Home", MachineID: "home-1", Owned: true, AccessToken: serverTok,
		Connections: []plextvsim.ConnSpec{{URI: pms.URL()}}})
	file := filepath.Join(t.TempDir(), "etc", "tokens")

	code, out, errText := runLogin(t, dir, approveWith(t, tv, account), "login", "--no-browser", "--token-file", file, "--plextv", tv.URL())
	if code != 0 || !strings.Contains(out, `Added "Home"`) || !strings.Contains(out, "The server tokens are in the token file "+file) {
		t.Fatalf("login --token-file: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errText)
	}
	if strings.Contains(out+errText, serverTok) || strings.Contains(out+errText, account) {
		t.Error("the login output contains a token")
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v; want 0600", err, st)
	}
	if b, _ := os.ReadFile(file); !strings.Contains(string(b), "home-1="+serverTok) {
		t.Errorf("token file lacks the server's entry:\n%s", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "config.json")); bytes.Contains(b, []byte(serverTok)) {
		t.Error("config.json contains the token")
	}

	credDir := t.TempDir()
	if b, err := os.ReadFile(file); err != nil || os.WriteFile(filepath.Join(credDir, CredentialName), b, 0o400) != nil {
		t.Fatal(err)
	}
	// Env.Secrets stays nil: the keyring would be asked if the file were ignored.
	tests := []struct {
		name string
		vars map[string]string
		args []string
	}{
		{"--token-file", nil, []string{"sessions", "--token-file", file}},
		{"PLEX_TOKEN_FILE", map[string]string{TokenFileEnv: file}, []string{"sessions"}},
		{"systemd credential", map[string]string{"CREDENTIALS_DIRECTORY": credDir}, []string{"sessions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errText := runEnv(nil, tt.vars, tt.args...)
			if code != 0 || !strings.Contains(out, "alice") {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errText)
			}
		})
	}

	// A file other users can read is refused, with the fix.
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errText := runEnv(nil, nil, "sessions", "--token-file", file); code != 1 || !strings.Contains(errText, "chmod 600 "+file) {
		t.Errorf("loose token file: exit %d, %q; want a refusal naming chmod 600", code, errText)
	}
	if code, _, errText := runEnv(nil, nil, "sessions", "--token-file", file+".missing"); code != 1 || !strings.Contains(errText, "does not exist") {
		t.Errorf("missing token file: exit %d, %q", code, errText)
	}
	_ = os.Chmod(file, 0o600)

	t.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	var lo, le bytes.Buffer
	if code := Main(context.Background(), Env{Args: []string{"logout", "--token-file", file}, Stdout: &lo, Stderr: &le,
		Getenv: func(string) string { return "" }}); code != 0 || !strings.Contains(lo.String(), `Removed the token of "Home" from the token file`) {
		t.Errorf("logout --token-file: exit %d, %q, %q", code, lo.String(), le.String())
	}
	if b, _ := os.ReadFile(file); strings.Contains(string(b), serverTok) {
		t.Errorf("the token is still in the file after logout:\n%s", b)
	}
}

// On a computer with no D-Bus session bus (a server), with the real
// keyring code: login without a token file fails and names the
// alternatives; with one it succeeds, and sessions and watch read it. Runs
// in a child process, as the session bus connection is process-wide.
func TestNoSessionBus(t *testing.T) {
	if os.Getenv("PLEXWARDEN_NO_BUS_CHILD") == "1" {
		noSessionBusChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestNoSessionBus$", "-test.v")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") && !strings.HasPrefix(kv, "DISPLAY=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PLEXWARDEN_NO_BUS_CHILD=1", "PATH=/nonexistent", "XDG_RUNTIME_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNoSessionBus") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func noSessionBusChild(t *testing.T) {
	const serverTok = "srv-NOBUS-9"
	if _, err := app.NewKeyring().Get(context.Background(), "probe"); err == nil {
		t.Fatal("the keyring answered without a session bus")
	}
	dir := t.TempDir()
	saved := loginHooks.pollInterval
	loginHooks.pollInterval = 10 * time.Millisecond
	t.Cleanup(func() { loginHooks.pollInterval = saved })
	pms := startSim(t, plexsim.Options{MachineID: "home-1", Token: serverTok, PlexPass: true, PingInterval: time.Hour})
	pms.AddSession(plexsim.SessionSpec{User: "alice"})
	tv := startTVSim(t, plextvsim.Options{})
	tv.AddServer(plextvsim.ResourceSpec{Name: "Home", MachineID: "home-1", Owned: true, AccessToken: serverTok,
		Connections: []plextvsim.ConnSpec{{URI: pms.URL()}}})

	code, out, errText := runLogin(t, dir, approveWith(t, tv, "acct"), "login", "--no-browser", "--plextv", tv.URL())
	if code == 0 || !strings.Contains(errText, "No keyring service is running (there is no D-Bus session bus") ||
		!strings.Contains(errText, "--token-file") || strings.Contains(out, "Added") || strings.Contains(errText, "dbus-launch") {
		t.Errorf("login without a keyring: exit %d\nstdout:\n%s\nstderr:\n%s\nwant a failure naming the alternatives", code, out, errText)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		t.Error("the refused login wrote a configuration")
	}

	file := filepath.Join(t.TempDir(), "tokens")
	code, out, errText = runLogin(t, dir, approveWith(t, tv, "acct"), "login", "--no-browser", "--token-file", file, "--plextv", tv.URL())
	if code != 0 || !strings.Contains(out, `Added "Home"`) {
		t.Fatalf("login --token-file: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errText)
	}
	t.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	if code, out, errText := runEnv(nil, map[string]string{TokenFileEnv: file}, "sessions"); code != 0 || !strings.Contains(out, "alice") {
		t.Errorf("sessions with PLEX_TOKEN_FILE: exit %d\n%s\n%s", code, out, errText)
	}
	if code, _, errText := runEnv(nil, nil, "sessions"); code != 1 || !strings.Contains(errText, "No keyring service is running") {
		t.Errorf("sessions without the file: exit %d, %q; want the keyring named as missing", code, errText)
	}
	w := startWatchEnv(t, Env{Args: []string{"watch", "--json", "--history", "off", "--token-file", file}, Getenv: func(string) string { return "" }})
	w.waitOutput(t, "alice's session", func(s string) bool { return strings.Contains(s, `"user":"alice"`) })
	if code := w.stop(t); code != 0 {
		t.Errorf("watch --token-file: exit %d, %s", code, w.stderr())
	}
	if strings.Contains(w.stdout()+w.stderr(), serverTok) {
		t.Error("watch printed the token")
	}
}
