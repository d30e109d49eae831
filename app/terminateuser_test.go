package app

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// TestControllerTerminateUser: "Terminate all of carol's streams…" stops
// every stream of carol on both servers, each with the default message
// for it, leaves dave alone, and records each stream through the Manual
// hook.
func TestControllerTerminateUser(t *testing.T) {
	den := startSim(t, plexsim.Options{Token: simToken, MachineID: "pms-den", PlexPass: true})
	cabin := startSim(t, plexsim.Options{Token: simToken, MachineID: "pms-cabin", PlexPass: true})
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Servers = []ServerConfig{{Name: "Den", URL: den.URL(), MachineID: "pms-den"}, {Name: "Cabin", URL: cabin.URL(), MachineID: "pms-cabin"}}
	if err := SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	secrets := NewMemoryStore()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	_ = secrets.Set(ctx, "pms-den", simToken)
	_ = secrets.Set(ctx, "pms-cabin", simToken)
	ctrl, err := NewController(ControllerOptions{ConfigDir: dir, Secrets: secrets, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var manual []string
	ctrl.SetHooks(Hooks{Manual: func(s Session, action, message string, res Result, _ time.Duration) {
		mu.Lock()
		manual = append(manual, s.Server+" "+s.User+" "+action+" "+string(res.Outcome))
		mu.Unlock()
	}})
	defer func() { cancel(); ctrl.Hub().Wait() }()
	if err := ctrl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	roku := plexsim.PlayerSpec{Title: "Den TV", Product: "Plex for Roku", Platform: "Roku"}
	c1 := den.AddSession(plexsim.SessionSpec{User: "carol", UserID: "7", Title: "One", Player: roku})
	c2 := cabin.AddSession(plexsim.SessionSpec{User: "carol", UserID: "7", Title: "Two", Player: plexsim.PlayerSpec{Product: "Plex Web", Platform: "Chrome"}})
	d1 := den.AddSession(plexsim.SessionSpec{User: "dave", UserID: "8", Title: "Three"})
	waitUntil(t, "three sessions", 5*time.Second, func() bool { return len(ctrl.Hub().State().Sessions()) == 3 })
	var carol Session
	for _, s := range ctrl.Hub().State().Sessions() {
		if s.ID == c1.ID {
			carol = s
		}
	}
	if got := len(ctrl.UserSessions(carol)); got != 2 {
		t.Fatalf("UserSessions(carol) = %d sessions, want 2", got)
	}
	res := ctrl.TerminateUser(ctx, carol, "")
	var ids []string
	for _, r := range res {
		if r.Result.Outcome != OutcomeDone {
			t.Errorf("%s on %s: outcome %q, want done", r.Session.Title, r.Session.Server, r.Result.Outcome)
		}
		ids = append(ids, r.Session.ID)
	}
	slices.Sort(ids)
	want := []string{c1.ID, c2.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("terminated %v, want carol's %v", ids, want)
	}
	reasons := map[string]string{}
	for _, sim := range []*plexsim.Server{den, cabin} {
		for _, c := range sim.Calls() {
			if c.Kind == plexsim.CallTerminate {
				reasons[c.SessionID] = c.Reason
			}
		}
	}
	if _, ok := reasons[d1.ID]; ok || len(reasons) != 2 {
		t.Errorf("terminate calls = %v, want carol's two only", reasons)
	}
	for _, r := range res {
		if got, want := reasons[r.Session.ID], DefaultMessage(r.Session); got != want {
			t.Errorf("message on %s = %q, want its default %q", r.Session.Server, got, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(manual)
	if wantM := []string{"Cabin carol terminateUser done", "Den carol terminateUser done"}; !slices.Equal(manual, wantM) {
		t.Errorf("manual records = %q, want %q", manual, wantM)
	}
}

func TestSessionSameUser(t *testing.T) {
	tests := []struct {
		a, b Session
		want bool
	}{
		{Session{User: "carol", UserID: "7"}, Session{User: "Carol", UserID: "7"}, true},
		{Session{User: "carol", UserID: "7"}, Session{User: "carol", UserID: "8"}, false}, // two accounts, one name
		{Session{User: "carol"}, Session{User: "CAROL", UserID: "7"}, true},               // no id on one side: by name
		{Session{User: "carol"}, Session{User: "dave"}, false},
		{Session{User: "(unknown user)"}, Session{User: "(unknown user)"}, false},
		{Session{}, Session{}, false},
	}
	for _, tt := range tests {
		if got := tt.a.SameUser(&tt.b); got != tt.want {
			t.Errorf("%+v.SameUser(%+v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
