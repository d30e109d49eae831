package desktop

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// The OS keyring test (alerts_test.go) opens the process-wide D-Bus
// session connection, which godbus keeps for the life of the process by
// design.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/godbus/dbus/v5.newConn.func1"),
		goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.(*Conn).inWorker"),
	)
}

// fastNotify shortens the notifier's coalescing for tests.
var fastNotify = app.NotifierOptions{Window: 20 * time.Millisecond, Gap: 20 * time.Millisecond, Quiet: time.Millisecond}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The assembled app against the simulator: a rule from rules.json
// terminates a transcode (recorded in the history and notified), a manual
// terminate is recorded as manual, and a direct play is left alone.
func TestAssembledApp(t *testing.T) {
	sim := plexsim.New(plexsim.Options{Token: "tok", PlexPass: true, PingInterval: 200 * time.Millisecond})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	dir := t.TempDir()
	rf := rules.File{Version: rules.Version, Rules: []rules.Rule{rules.DefaultRule(rules.KindTranscode, "No video transcodes")}}
	rf.Rules[0].Scope.Users = []string{"carol"}
	if err := rules.Save(filepath.Join(dir, rules.FileName), rf); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": "tok"}
	d, err := New(Options{Controller: app.ControllerOptions{ConfigDir: dir, Secrets: app.NewMemoryStore(), Getenv: func(k string) string { return env[k] }},
		Notify: fastNotify})
	if err != nil {
		t.Fatal(err)
	}
	if d.RulesError() != nil {
		t.Fatalf("RulesError = %v", d.RulesError())
	}
	var mu sync.Mutex
	var notes []app.Notification
	var state *app.State
	ctx, cancel := context.WithCancel(context.Background())
	err = d.Start(ctx, Sinks{
		State: func(s *app.State) { mu.Lock(); state = s; mu.Unlock() },
		Popups: alert.SenderFunc(func(_ context.Context, n app.Notification) error {
			mu.Lock()
			notes = append(notes, n)
			mu.Unlock()
			return nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); d.Wait() }()

	bob := sim.AddSession(plexsim.SessionSpec{User: "bob", Title: "Direct"})
	carol := sim.AddSession(plexsim.SessionSpec{User: "carol", Player: plexsim.PlayerSpec{Product: "Plex for Roku", Platform: "Roku"},
		Transcode: &plexsim.TranscodeSpec{Video: "transcode"}})
	calls, err := sim.WaitCalls(ctxTimeout(t, 5*time.Second), 1)
	if err != nil {
		t.Fatalf("no terminate call: %v", err)
	}
	if c := calls[0]; c.SessionID != carol.ID || !strings.Contains(c.Reason, "Roku") {
		t.Errorf("rule terminate = %+v, want carol's session with a Roku message", c)
	}
	// Manual terminate of bob through the controller (the window's path).
	waitFor(t, "bob in the state", 3*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		if state == nil {
			return false
		}
		for _, s := range state.Sessions() {
			if s.User == "bob" {
				return true
			}
		}
		return false
	})
	var bs app.Session
	for _, s := range d.Ctrl.Hub().State().Sessions() {
		if s.SessionKey == bob.Key {
			bs = s
		}
	}
	if res := d.Ctrl.Terminate(context.Background(), bs, "Maintenance tonight."); res.Outcome != app.OutcomeDone {
		t.Fatalf("manual terminate = %+v", res)
	}
	waitFor(t, "both history records", 5*time.Second, func() bool {
		r, _ := history.Read(filepath.Join(dir, "history"), history.Filter{})
		return len(r.Records) >= 2
	})
	r, err := history.Read(filepath.Join(dir, "history"), history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]history.Record{}
	for _, rec := range r.Records {
		if rec.Action == "terminate" {
			kinds[rec.Kind] = rec
		}
	}
	if rec := kinds[history.KindRule]; rec.User != "carol" || rec.Rule != "No video transcodes" || rec.Outcome != "done" {
		t.Errorf("rule record = %+v", rec)
	}
	if rec := kinds[history.KindManual]; rec.User != "bob" || rec.Message != "Maintenance tonight." || rec.Outcome != "done" {
		t.Errorf("manual record = %+v", rec)
	}
	for _, c := range sim.Calls() {
		if c.SessionID == bob.ID && c.Reason != "Maintenance tonight." {
			t.Errorf("bob was terminated by something else: %+v", c)
		}
	}
	// The engine writes the record, then notifies; the manual terminate
	// is notified too (the window no longer does it).
	for _, want := range []string{"carol · Untitled", "bob · Direct"} {
		waitFor(t, "the notification "+want, 3*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, n := range notes {
				if n.Kind == app.NotifyTerminated && strings.Contains(n.Title+"\n"+n.Body, want) { // alone or folded into one
					return true
				}
			}
			return false
		})
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// A broken rules file does not stop the app and is never replaced.
func TestBrokenRulesFileKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, rules.FileName)
	body := []byte(`{"version":1,"rules":[{"name":"x","kind":"nonsense"}]}`)
	if err := writeFile(path, body); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Controller: app.ControllerOptions{ConfigDir: dir, Secrets: app.NewMemoryStore(), Getenv: func(string) string { return "" }}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.History.Close()
	if d.RulesError() == nil || !strings.Contains(d.RulesError().Error(), "rules[0]") {
		t.Errorf("RulesError = %v, want one naming rules[0]", d.RulesError())
	}
	if got := readFile(t, path); string(got) != string(body) {
		t.Error("the broken rules file was changed")
	}
}

// When a signed-in server moves to another of its addresses, the desktop
// app says so in a notification naming the new address and its kind.
func TestMoveIsNotified(t *testing.T) {
	opts := plexsim.Options{Token: "tok", MachineID: "pms-den", PlexPass: true, PingInterval: 100 * time.Millisecond}
	lan, remote := plexsim.New(opts), plexsim.New(opts)
	for _, s := range []*plexsim.Server{lan, remote} {
		if err := s.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	dir := t.TempDir()
	cfg := app.DefaultConfig()
	cfg.Servers = []app.ServerConfig{{Name: "Den", URL: lan.URL(), MachineID: "pms-den",
		Connections: []app.ServerConnection{{URI: lan.URL(), Local: true}, {URI: remote.URL()}}}}
	if err := app.SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	secrets := app.NewMemoryStore()
	_ = secrets.Set(context.Background(), "pms-den", "tok")
	d, err := New(Options{Controller: app.ControllerOptions{ConfigDir: dir, Secrets: secrets, Getenv: func(string) string { return "" },
		Reprobe: app.ReprobeOptions{After: 100 * time.Millisecond, Probe: time.Second}}, Notify: fastNotify})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var notes []app.Notification
	ctx, cancel := context.WithCancel(context.Background())
	if err := d.Start(ctx, Sinks{Popups: alert.SenderFunc(func(_ context.Context, n app.Notification) error {
		mu.Lock()
		notes = append(notes, n)
		mu.Unlock()
		return nil
	})}); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); d.Wait() }()
	waitFor(t, "connected", 5*time.Second, func() bool { return d.Ctrl.Hub().Monitor("Den").Snapshot().Conn.Status == app.Connected })
	lan.Close()
	var got app.Notification
	waitFor(t, "the move notification", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range notes {
			// It may come alone or folded into "2 servers are back".
			if strings.Contains(n.Title+"\n"+n.Body, "Den moved to another address") {
				got = n
				return true
			}
		}
		return false
	})
	if got.Kind != app.NotifyServerBack || !strings.Contains(got.Body, remote.URL()+" (remote)") {
		t.Errorf("notification = %+v, want Den's move to %s (remote)", got, remote.URL())
	}
}
