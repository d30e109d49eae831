package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexwarden/plexwarden/plex"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	t.Setenv("PLEXWARDEN_CONFIG_DIR", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code = Main(ctx, Env{Args: args, Stdout: &out, Stderr: &errb, Version: "1.2.3",
		Getenv: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

func startSim(t *testing.T, opts plexsim.Options) *plexsim.Server {
	t.Helper()
	sim := plexsim.New(opts)
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func TestSessionsJSON(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: "tok", PlexPass: true})
	sim.AddSession(plexsim.SessionSpec{User: "alice", Type: "episode", Show: "The Long Orbit", Season: 1, Episode: 2, Title: "Pilot",
		Resolution: "4k", VideoCodec: "hevc", Player: plexsim.PlayerSpec{MachineID: "web-1", Title: "Firefox", Product: "Plex Web", Platform: "Firefox", Device: "Linux"},
		Local: true, Transcode: &plexsim.TranscodeSpec{Video: "transcode", Audio: "copy", HW: true}})
	sim.AddSession(plexsim.SessionSpec{User: "bob", Title: "Night Harbor"})
	code, out, errText := run(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": "tok"}, "sessions", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errText)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, out)
	}
	if len(got) != 2 {
		t.Fatalf("got %d sessions, want 2", len(got))
	}
	required := []string{"server", "id", "sessionKey", "user", "title", "type", "state", "player", "decision", "videoDecision",
		"audioDecision", "subtitleDecision", "hwTranscode", "transcodeKey", "sourceResolution", "bandwidthKbps", "viewOffsetMs", "durationMs"}
	for _, s := range got {
		for _, k := range required {
			if _, ok := s[k]; !ok {
				t.Errorf("session %v lacks %q", s["user"], k)
			}
		}
		p, _ := s["player"].(map[string]any)
		for _, k := range []string{"title", "product", "platform", "device", "address", "local", "machineIdentifier"} {
			if _, ok := p[k]; !ok {
				t.Errorf("player of %v lacks %q", s["user"], k)
			}
		}
	}
	a := got[0]
	checks := map[string]any{"user": "alice", "title": "The Long Orbit - S01E02 - Pilot", "type": "episode", "decision": "transcode",
		"videoDecision": "transcode", "audioDecision": "copy", "hwTranscode": true, "sourceResolution": "4K", "state": "playing"}
	for k, want := range checks {
		if a[k] != want {
			t.Errorf("%s = %#v, want %#v", k, a[k], want)
		}
	}
	if a["transcodeKey"] == "" || a["id"] == "" {
		t.Errorf("transcodeKey/id empty: %v", a)
	}
	if p := a["player"].(map[string]any); p["product"] != "Plex Web" || p["local"] != true || p["machineIdentifier"] != "web-1" {
		t.Errorf("player = %v", p)
	}
	if b := got[1]; b["decision"] != "directplay" || b["transcodeKey"] != "" {
		t.Errorf("bob's direct play = %v", b)
	}
	if strings.Contains(out, "tok\"") {
		t.Error("output contains the token")
	}
}

func TestSessionsTable(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: "tok"})
	sim.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor"})
	code, out, _ := run(t, map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": "tok"}, "sessions")
	if code != 0 || !strings.Contains(out, "alice") || !strings.Contains(out, "Night Harbor") || !strings.Contains(out, "Direct Play") {
		t.Errorf("exit %d, table:\n%s", code, out)
	}
}

func TestTerminateAndStopTranscode(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: "tok", PlexPass: true})
	ref := sim.AddSession(plexsim.SessionSpec{User: "carol", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	ref2 := sim.AddSession(plexsim.SessionSpec{User: "dave", Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	env := map[string]string{"PLEX_TOKEN": "tok"}
	if code, out, e := run(t, env, "terminate", ref.ID, "--message", "Please use Original quality", "--server", sim.URL()); code != 0 || !strings.Contains(out, ref.ID) {
		t.Fatalf("terminate: exit %d, out %q, err %q", code, out, e)
	}
	if code, _, e := run(t, env, "stop-transcode", "--server", sim.URL(), "/transcode/sessions/"+ref2.TranscodeKey); code != 0 {
		t.Fatalf("stop-transcode: exit %d, err %q", code, e)
	}
	calls := sim.Calls()
	if len(calls) != 2 {
		t.Fatalf("calls = %+v, want 2", calls)
	}
	if c := calls[0]; c.Kind != plexsim.CallTerminate || c.SessionID != ref.ID || c.Reason != "Please use Original quality" {
		t.Errorf("terminate call = %+v", c)
	}
	if c := calls[1]; c.Kind != plexsim.CallStopTranscode || c.TranscodeKey != ref2.TranscodeKey {
		t.Errorf("stop call = %+v", c)
	}
	code, _, e := run(t, env, "terminate", ref.ID, "--server", sim.URL())
	if code == 0 || !strings.Contains(e, "no session with id") {
		t.Errorf("terminate of a gone session: exit %d, stderr %q", code, e)
	}
}

func TestErrorsInWords(t *testing.T) {
	sim := startSim(t, plexsim.Options{Token: "tok"})
	dead := startSim(t, plexsim.Options{})
	deadURL := dead.URL()
	dead.Close()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no server", map[string]string{"PLEX_TOKEN": "x"}, []string{"sessions"}, 1, "no server given"},
		{"no token", map[string]string{"PLEX_URL": sim.URL()}, []string{"sessions"}, 1, "no token"},
		{"bad url", map[string]string{"PLEX_TOKEN": "x"}, []string{"sessions", "--server", "ftp://x"}, 1, "bad server address"},
		{"token in url", map[string]string{"PLEX_TOKEN": "x"}, []string{"sessions", "--server", "http://h:1/?X-Plex-Token=abc"}, 1, "not in the URL"},
		{"refused", map[string]string{"PLEX_URL": deadURL, "PLEX_TOKEN": "x"}, []string{"sessions"}, 1, "connection refused"},
		{"401", map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": "wrong-secret"}, []string{"sessions"}, 1, "token rejected"},
		{"unknown command", nil, []string{"frobnicate"}, 2, "unknown command"},
		{"terminate without id", map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": "tok"}, []string{"terminate"}, 2, "Usage: plexwarden terminate"},
		{"bad flag", nil, []string{"sessions", "--bogus"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, e := run(t, tt.env, tt.args...)
			if code != tt.code || !strings.Contains(e, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, e, tt.code, tt.want)
			}
			if strings.Contains(e, "wrong-secret") {
				t.Errorf("stderr leaks the token: %q", e)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"sessions", "--help"}, {"terminate", "-h"}, {"stop-transcode", "--help"}, {"simulate", "--help"}, {"demo", "--help"}} {
		code, out, e := run(t, nil, args...)
		if code != 0 || !strings.Contains(out+e, "plexwarden") {
			t.Errorf("%v: exit %d, output %q", args, code, out+e)
		}
	}
	if code, out, _ := run(t, nil, "version"); code != 0 || out != "plexwarden 1.2.3\n" {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

// TestSimulateCommand runs two simulators side by side, as someone trying
// several servers would: each answers with its own name and its own
// machineIdentifier, and both stop on cancel.
func TestSimulateCommand(t *testing.T) {
	tests := []struct{ name, addr string }{{"Den", freeAddr(t)}, {"Cabin", freeAddr(t)}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, len(tests))
	outs := make([]*bytes.Buffer, len(tests))
	for i, tc := range tests {
		outs[i] = &bytes.Buffer{}
		sout := &syncWriter{w: outs[i]}
		go func() {
			done <- Main(ctx, Env{Args: []string{"simulate", "--addr", tc.addr, "--name", tc.name}, Stdout: sout, Stderr: io.Discard})
		}()
	}
	ids := map[string]bool{}
	for _, tc := range tests {
		c, err := plex.NewClient("http://"+tc.addr, "x", plex.ClientInfo{ID: "test"})
		if err != nil {
			t.Fatal(err)
		}
		var info *plex.ServerInfo
		deadline := time.Now().Add(5 * time.Second)
		for info, err = c.ServerInfo(ctx); err != nil; info, err = c.ServerInfo(ctx) {
			if time.Now().After(deadline) {
				t.Fatalf("simulator %s never answered: %v", tc.name, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := string(info.FriendlyName); got != tc.name {
			t.Errorf("friendlyName = %q, want %q", got, tc.name)
		}
		ids[string(info.MachineIdentifier)] = true
	}
	if len(ids) != len(tests) {
		t.Errorf("machineIdentifiers = %v, want %d distinct", ids, len(tests))
	}
	cancel()
	for range tests {
		waitSimulateExit(t, done)
	}
}

// waitSimulateExit waits for one simulate command to end with 0 after its
// context was cancelled.
func waitSimulateExit(t *testing.T, done <-chan int) {
	t.Helper()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("simulate exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("simulate did not stop on cancel")
	}
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestSimulateStill: `simulate --still` serves the demo's opening sessions
// and never changes them, past the demo's first tick (3 s), so outputs of
// two runs can be compared (the Wine test does).
func TestSimulateStill(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, Env{Args: []string{"simulate", "--addr", addr, "--still"}, Stdout: io.Discard, Stderr: io.Discard})
	}()
	c, err := plex.NewClient("http://"+addr, "x", plex.ClientInfo{ID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	snapshot := func() []string {
		t.Helper()
		var ms []plex.Metadata
		deadline := time.Now().Add(5 * time.Second)
		for ms, err = c.Sessions(ctx); err != nil; ms, err = c.Sessions(ctx) {
			if time.Now().After(deadline) {
				t.Fatalf("the simulator never answered: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		var out []string
		for _, m := range ms {
			state, progress := "", plex.Float(0)
			if m.Player != nil {
				state = m.Player.State
			}
			if m.TranscodeSession != nil {
				progress = m.TranscodeSession.Progress
			}
			out = append(out, fmt.Sprintf("%s %s %v %v", m.SessionKey, state, m.ViewOffset, progress))
		}
		return out
	}
	first := snapshot()
	time.Sleep(3500 * time.Millisecond)
	if got := snapshot(); len(first) != len(plexsim.DemoCast()) || !reflect.DeepEqual(got, first) {
		t.Errorf("sessions changed: first %q, 3.5 s later %q; want the %d demo sessions unchanged", first, got, len(plexsim.DemoCast()))
	}
	cancel()
	waitSimulateExit(t, done)
}
