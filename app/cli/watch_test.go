package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

const watchToken = "watch-secret-token"

// watchRun runs `plexwarden watch args…` in the background until stop is
// called; stdout and stderr are read while it runs.
type watchRun struct {
	out, errb bytes.Buffer
	sout      *syncWriter
	serr      *syncWriter
	cancel    context.CancelFunc
	done      chan int
}

func startWatch(t *testing.T, env map[string]string, args ...string) *watchRun {
	t.Helper()
	t.Setenv("PLEXWARDEN_CONFIG_DIR", t.TempDir())
	return startWatchEnv(t, Env{Args: append([]string{"watch"}, args...), Getenv: func(k string) string { return env[k] }})
}

// startWatchEnv is startWatch with the whole Env (its Args include
// "watch"); the configuration directory is the caller's.
func startWatchEnv(t *testing.T, env Env) *watchRun {
	t.Helper()
	w := &watchRun{done: make(chan int, 1)}
	w.sout, w.serr = &syncWriter{w: &w.out}, &syncWriter{w: &w.errb}
	env.Stdout, env.Stderr, env.Version = w.sout, w.serr, "test"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	w.cancel = cancel
	go func() { w.done <- Main(ctx, env) }()
	t.Cleanup(func() { w.stop(t) })
	return w
}

func (w *watchRun) stdout() string {
	w.sout.mu.Lock()
	defer w.sout.mu.Unlock()
	return w.out.String()
}

func (w *watchRun) stderr() string {
	w.serr.mu.Lock()
	defer w.serr.mu.Unlock()
	return w.errb.String()
}

// stop sends the equivalent of Ctrl-C and returns the exit code.
func (w *watchRun) stop(t *testing.T) int {
	t.Helper()
	w.cancel()
	select {
	case code := <-w.done:
		w.done <- code // for a second stop
		return code
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not stop after cancel")
		return -1
	}
}

func (w *watchRun) waitOutput(t *testing.T, what string, cond func(out string) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond(w.stdout()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stdout:\n%s\nstderr:\n%s", what, w.stdout(), w.stderr())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func writeRules(t *testing.T, f rules.File) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.json")
	if err := rules.Save(path, f); err != nil {
		t.Fatal(err)
	}
	return path
}

func parseLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q (%v)", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestWatchJSONEndToEnd(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	r := rules.DefaultRule(rules.KindTranscode, "No transcodes")
	r.Messages = map[string]string{"roku": "Roku: {quality}"}
	path := writeRules(t, rules.File{Rules: []rules.Rule{r}})
	histDir := filepath.Join(t.TempDir(), "history")
	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}, "--json", "--config", path, "--history", histDir)
	w.waitOutput(t, "connected", func(out string) bool { return strings.Contains(out, `"event":"connected"`) })

	direct := sim.AddSession(plexsim.SessionSpec{User: "bob", Title: "Direct"})
	tc := sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor", Transcode: &plexsim.TranscodeSpec{Video: "transcode"},
		Player: plexsim.PlayerSpec{Title: "Den", Product: "Plex for Roku", Platform: "Roku"}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	calls, err := sim.WaitCalls(ctx, 1)
	if err != nil {
		t.Fatalf("no terminate: %v\n%s", err, w.stdout())
	}
	if calls[0].SessionID != tc.ID || !strings.HasPrefix(calls[0].Reason, "Roku: On Roku") {
		t.Errorf("call = %+v, want a terminate of %s with the Roku message", calls[0], tc.ID)
	}
	w.waitOutput(t, "verified", func(out string) bool { return strings.Contains(out, `"action":"verify"`) })
	if code := w.stop(t); code != 0 {
		t.Fatalf("exit %d after cancel, stderr %s", code, w.stderr())
	}

	out := w.stdout()
	if strings.Contains(out, watchToken) || strings.Contains(w.stderr(), watchToken) {
		t.Error("the output contains the token")
	}
	lines := parseLines(t, out)
	required := []string{"time", "kind", "server", "sessionId", "user", "rule", "action", "dryRun", "outcome", "latencyMs"}
	find := func(match map[string]any) map[string]any {
		for _, l := range lines {
			ok := true
			for k, v := range match {
				if l[k] != v {
					ok = false
				}
			}
			if ok {
				return l
			}
		}
		t.Errorf("no line with %v in:\n%s", match, out)
		return nil
	}
	for i, l := range lines {
		for _, k := range required {
			if _, ok := l[k]; !ok {
				t.Errorf("line %d %v lacks %q", i, l, k)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, l["time"].(string)); err != nil {
			t.Errorf("line %d: time %v: %v", i, l["time"], err)
		}
	}
	find(map[string]any{"kind": "session", "event": "started", "sessionId": direct.ID, "user": "bob"})
	find(map[string]any{"kind": "session", "event": "started", "sessionId": tc.ID, "user": "alice"})
	find(map[string]any{"kind": "session", "event": "ended", "sessionId": tc.ID})
	act := find(map[string]any{"kind": "action", "action": "terminate", "sessionId": tc.ID})
	if act != nil {
		if act["rule"] != "No transcodes" || act["outcome"] != "done" || act["dryRun"] != false || act["user"] != "alice" || act["server"] == "" {
			t.Errorf("action line = %v", act)
		}
		if l, _ := act["latencyMs"].(float64); l <= 0 || l > 5000 {
			t.Errorf("latencyMs = %v, want a positive reaction time", act["latencyMs"])
		}
	}
	find(map[string]any{"kind": "action", "action": "verify", "outcome": "gone", "sessionId": tc.ID})
	for _, l := range lines {
		if l["kind"] == "action" && l["sessionId"] == direct.ID {
			t.Errorf("direct play acted on: %v", l)
		}
	}

	// The same actions are in the history.
	res, err := history.Read(histDir, history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 || res.Records[0].Action != "terminate" || res.Records[1].Action != "verify" {
		t.Errorf("history = %+v, want terminate and verify", res.Records)
	}
}

func TestWatchDryRunHuman(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PlexPass: true, PingInterval: time.Hour})
	path := writeRules(t, rules.File{Rules: []rules.Rule{rules.DefaultRule(rules.KindTranscode, "No transcodes")}})
	w := startWatch(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}, "--dry-run", "--config", path, "--history", "off")
	w.waitOutput(t, "connected", func(out string) bool { return strings.Contains(out, "connected") })
	sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	w.waitOutput(t, "dry-run action", func(out string) bool {
		return strings.Contains(out, `rule "No transcodes": terminate [dry run] → dry run`)
	})
	time.Sleep(100 * time.Millisecond)
	if calls := sim.Calls(); len(calls) != 0 {
		t.Errorf("calls = %+v, want none with --dry-run", calls)
	}
	if code := w.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(w.stderr(), "dry run: nothing will be sent") {
		t.Errorf("stderr = %q, want the dry-run banner", w.stderr())
	}
	if !strings.Contains(w.stdout(), "started   alice · Night Harbor") {
		t.Errorf("stdout lacks the started line:\n%s", w.stdout())
	}
}

func TestWatchErrors(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken})
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"rules":[{"name":"x","kind":"bandwidth"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	good := writeRules(t, rules.File{})
	env := map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"invalid rules", env, []string{"--config", bad}, 1, []string{bad, `rules[0] ("x")`, `field "maxKbps"`, "not changed"}},
		{"missing rules file", env, []string{"--config", filepath.Join(dir, "nope.json")}, 1, []string{"nope.json", "no such file"}},
		{"rejected token", map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": "wrong-secret"}, []string{"--config", good, "--history", "off"}, 1, []string{"token rejected"}},
		{"no server", map[string]string{"PLEX_TOKEN": "x"}, []string{"--config", good}, 1, []string{"no server given"}},
		{"extra argument", env, []string{"now"}, 2, []string{"unexpected argument"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, e := run(t, tt.env, append([]string{"watch"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, e)
			}
			for _, s := range tt.want {
				if !strings.Contains(e, s) {
					t.Errorf("stderr %q lacks %q", e, s)
				}
			}
			if strings.Contains(e, "wrong-secret") {
				t.Errorf("stderr leaks the token: %q", e)
			}
		})
	}
}

func TestWatchHelp(t *testing.T) {
	code, _, e := run(t, nil, "watch", "--help")
	if code != 0 || !strings.Contains(e, "Usage: plexwarden watch") || !strings.Contains(e, "--dry-run") {
		t.Errorf("watch --help: exit %d, stderr %q", code, e)
	}
	_, out, _ := run(t, nil, "--help")
	if !strings.Contains(out, "plexwarden watch") {
		t.Errorf("usage lacks watch:\n%s", out)
	}
}

// Without --server or PLEX_URL, watch follows every configured server
// under its configured name, and a rule's scope.servers uses those names.
func TestWatchConfiguredServers(t *testing.T) {
	den := startSim(t, plexsim.Options{Token: "den-token", MachineID: "m-den", PlexPass: true, PingInterval: time.Hour})
	cabin := startSim(t, plexsim.Options{Token: "cabin-token", MachineID: "m-cabin", PlexPass: true, PingInterval: time.Hour})
	dir := t.TempDir()
	t.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	cfg := app.DefaultConfig()
	cfg.Servers = []app.ServerConfig{{Name: "Den", URL: den.URL(), MachineID: "m-den"}, {Name: "Cabin", URL: cabin.URL(), MachineID: "m-cabin"}}
	if err := app.SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	r := rules.DefaultRule(rules.KindTranscode, "No transcodes at the cabin")
	r.Scope.Servers = []string{"Cabin"}
	if err := rules.Save(filepath.Join(dir, rules.FileName), rules.File{Rules: []rules.Rule{r}}); err != nil {
		t.Fatal(err)
	}
	secrets := app.NewMemoryStore()
	_ = secrets.Set(context.Background(), "m-den", "den-token")
	_ = secrets.Set(context.Background(), "m-cabin", "cabin-token")

	w := startWatchEnv(t, Env{Args: []string{"watch", "--json", "--history", "off"}, Secrets: secrets, Getenv: func(string) string { return "" }})
	w.waitOutput(t, "both connected", func(s string) bool { return strings.Count(s, `"event":"connected"`) == 2 })
	denRef := den.AddSession(plexsim.SessionSpec{User: "alice", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	cabinRef := cabin.AddSession(plexsim.SessionSpec{User: "bob", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if _, err := cabin.WaitCalls(wctx, 1); err != nil {
		t.Fatalf("no terminate at the cabin: %v\n%s", err, w.stdout())
	}
	w.waitOutput(t, "den session seen", func(s string) bool { return strings.Contains(s, denRef.ID) })
	time.Sleep(100 * time.Millisecond)
	if code := w.stop(t); code != 0 {
		t.Fatalf("exit %d: %s", code, w.stderr())
	}
	if calls := den.Calls(); len(calls) != 0 {
		t.Errorf("den calls = %+v, want none (the rule is scoped to Cabin)", calls)
	}
	lines := parseLines(t, w.stdout())
	var sawCabin bool
	for _, l := range lines {
		if l["kind"] == "action" && l["action"] == "terminate" && l["server"] == "Cabin" && l["sessionId"] == cabinRef.ID {
			sawCabin = true
		}
	}
	if !sawCabin {
		t.Errorf("no terminate line for Cabin/%s:\n%s", cabinRef.ID, w.stdout())
	}
}

// A server signed in through plex.tv has several addresses; when the one in
// use dies, watch moves to the next that answers as that server and says
// so in a "moved" connection line.
func TestWatchMovesToAnotherAddress(t *testing.T) {
	opts := plexsim.Options{Token: "den-token", MachineID: "m-den", PlexPass: true, PingInterval: 100 * time.Millisecond}
	lan := startSim(t, opts)
	remote := startSim(t, opts)
	dir := t.TempDir()
	t.Setenv("PLEXWARDEN_CONFIG_DIR", dir)
	cfg := app.DefaultConfig()
	cfg.Servers = []app.ServerConfig{{Name: "Den", URL: lan.URL(), MachineID: "m-den",
		Connections: []app.ServerConnection{{URI: lan.URL(), Local: true}, {URI: remote.URL()}}}}
	if err := app.SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	secrets := app.NewMemoryStore()
	_ = secrets.Set(context.Background(), "m-den", "den-token")

	w := startWatchEnv(t, Env{Args: []string{"watch", "--json", "--history", "off"}, Secrets: secrets, Getenv: func(string) string { return "" },
		Reprobe: app.ReprobeOptions{After: 100 * time.Millisecond, Every: time.Hour, Probe: time.Second}})
	w.waitOutput(t, "connected", func(s string) bool { return strings.Contains(s, `"event":"connected"`) })
	lan.Close()
	w.waitOutput(t, "the move", func(s string) bool { return strings.Contains(s, `"event":"moved"`) })
	ref := remote.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor"})
	w.waitOutput(t, "the remote address's session", func(s string) bool { return strings.Contains(s, ref.ID) })
	if code := w.stop(t); code != 0 {
		t.Fatalf("exit %d: %s", code, w.stderr())
	}
	for _, l := range parseLines(t, w.stdout()) {
		if l["event"] == "moved" {
			if d, _ := l["detail"].(string); !strings.Contains(d, remote.URL()) || !strings.Contains(d, "(remote)") {
				t.Errorf("moved line detail = %q, want the remote address named", d)
			}
		}
	}
}

// TestWatchKeepsGoingAfterTokenRejected: a 401 on the event stream's
// reconnect, while watching, does not end watch: --json reports the
// token-rejected state with the next try, and the server is watched again
// once it accepts the token; Ctrl-C then exits 0.
func TestWatchKeepsGoingAfterTokenRejected(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: watchToken, PingInterval: time.Hour})
	path := writeRules(t, rules.File{})
	t.Setenv("PLEXWARDEN_CONFIG_DIR", t.TempDir())
	env := map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": watchToken}
	w := startWatchEnv(t, Env{Args: []string{"watch", "--json", "--config", path, "--history", "off"},
		Getenv: func(k string) string { return env[k] }, TokenRetryMin: 100 * time.Millisecond, TokenRetryMax: 200 * time.Millisecond})
	w.waitOutput(t, "connected", func(out string) bool { return strings.Contains(out, `"event":"connected"`) })
	sim.FailAll(401)
	sim.DropStreams()
	w.waitOutput(t, "token rejected", func(out string) bool { return strings.Contains(out, `"event":"token rejected"`) })
	var rejected map[string]any
	for _, l := range parseLines(t, w.stdout()) {
		if l["event"] == "token rejected" {
			rejected = l
		}
	}
	if got, want := rejected["detail"], app.TokenRejectedHint; got != want {
		t.Errorf("detail = %q, want %q", got, want)
	}
	if _, ok := rejected["nextRetry"]; !ok {
		t.Errorf("token-rejected line %v has no nextRetry", rejected)
	}
	sim.FailAll(0)
	w.waitOutput(t, "connected again", func(out string) bool { return strings.Count(out, `"event":"connected"`) >= 2 })
	if code := w.stop(t); code != 0 {
		t.Errorf("exit code %d after Ctrl-C, want 0; stderr:\n%s", code, w.stderr())
	}
}

// TestWatchSkipsChangesItDoesNotShow: a change the session line does not
// show (the source read after the list, a terminate under way) prints
// nothing; a change it shows prints a line.
func TestWatchSkipsChangesItDoesNotShow(t *testing.T) {
	base := app.Session{Server: "srv", SessionKey: "7", ID: "s7", User: "ann", Title: "Film", Short: "Transcode (HEVC 4K→1080p)", State: "playing",
		SourcePending: true, Player: app.Player{Title: "TV", Product: "Plex for Roku"}}
	tests := []struct {
		name   string
		change func(s *app.Session)
		want   int // lines
	}{
		{name: "the source read", change: func(s *app.Session) { s.SourcePending, s.SourceKnown, s.SourceResolution = false, true, "4K" }, want: 0},
		{name: "a terminate under way", change: func(s *app.Session) { s.Leaving = app.LeavingTerminated }, want: 0},
		{name: "paused", change: func(s *app.Session) { s.State = "paused" }, want: 1},
		{name: "the decision", change: func(s *app.Session) { s.Short = "Direct Play" }, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := &watchOutput{w: &buf, json: true, conn: map[string]app.ConnStatus{"srv": app.Connected}}
			next := base
			tt.change(&next)
			prev := base
			o.update(app.Update{Snapshot: app.Snapshot{Server: "srv", Conn: app.Conn{Status: app.Connected}}.WithSessions(next),
				Changes: []app.Change{{Kind: app.Changed, Session: next, Prev: &prev}}})
			if got := strings.Count(buf.String(), "\n"); got != tt.want {
				t.Errorf("lines = %d, want %d:\n%s", got, tt.want, buf.String())
			}
		})
	}
}
