package app

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// startSimAt starts a simulator on addr, retrying while the port is still
// being released by the one that just closed there.
func startSimAt(t *testing.T, addr string, opts plexsim.Options) *plexsim.Server {
	t.Helper()
	sim := plexsim.New(opts)
	var err error
	for i := 0; i < 50; i++ {
		if err = sim.Start(addr); err == nil {
			t.Cleanup(func() { sim.Close() })
			return sim
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listening again on %s: %v", addr, err)
	return nil
}

// TestServerMovesBetweenAddresses runs one server known at three
// addresses, as sign-in saves them: its LAN address (preferred), a remote
// address where a different Plex server answers, and its own remote
// address. When the LAN address dies, the watcher probes and moves the
// monitor to the right remote one (never to the wrong server), saves it and
// says so; when the LAN address answers again it moves back; when nothing
// answers it stays put.
func TestServerMovesBetweenAddresses(t *testing.T) {
	const machine = "pms-den"
	opts := plexsim.Options{Token: simToken, MachineID: machine, FriendlyName: "Den", PlexPass: true, PingInterval: 100 * time.Millisecond}
	lan := startSim(t, opts)
	remote := startSim(t, opts)
	other := startSim(t, plexsim.Options{Token: simToken, MachineID: "pms-neighbour", PingInterval: 100 * time.Millisecond})
	lanAddr := lan.Addr()

	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Servers = []ServerConfig{{Name: "Den", URL: lan.URL(), MachineID: machine, Connections: []ServerConnection{
		{URI: other.URL()}, {URI: lan.URL(), Local: true}, {URI: remote.URL()},
	}}}
	if err := SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	secrets := NewMemoryStore()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_ = secrets.Set(ctx, machine, simToken)
	ctrl, err := NewController(ControllerOptions{ConfigDir: dir, Secrets: secrets, Getenv: func(string) string { return "" },
		Reprobe: ReprobeOptions{After: 200 * time.Millisecond, Every: 300 * time.Millisecond, MaxWait: 400 * time.Millisecond, Probe: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	type move struct{ from, to, how string }
	var mu sync.Mutex
	var moves []move
	ctrl.SetHooks(Hooks{Moved: func(server, from, to, how string) {
		mu.Lock()
		defer mu.Unlock()
		moves = append(moves, move{from, to, how})
	}})
	defer func() { cancel(); ctrl.Hub().Wait() }()
	if err := ctrl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	snap := func() *Snapshot { return ctrl.Hub().Monitor("Den").Snapshot() }
	on := func(url string) func() bool {
		return func() bool { s := snap(); return s.URL == url && s.Conn.Status == Connected }
	}
	savedURL := func() string {
		c, err := LoadConfig(filepath.Join(dir, "config.json"))
		if err != nil || len(c.Servers) != 1 {
			t.Fatalf("config after the move: %v %+v", err, c)
		}
		return c.Servers[0].URL
	}
	waitUntil(t, "connected on the LAN address", 5*time.Second, on(lan.URL()))

	// 1. The LAN address dies: move to the server's own remote address.
	lan.Close()
	waitUntil(t, "the move to the remote address", 10*time.Second, on(remote.URL()))
	if got, want := savedURL(), remote.URL(); got != want {
		t.Errorf("saved URL = %q, want %q", got, want)
	}
	// Calls go there too.
	ref := remote.AddSession(plexsim.SessionSpec{User: "alice", Title: "Night Harbor"})
	waitUntil(t, "the remote address's session", 5*time.Second, func() bool { return len(snap().Sessions()) == 1 })
	s := snap().Sessions()[0]
	if r := ctrl.Terminate(ctx, s, "bye"); r.Outcome != OutcomeDone {
		t.Errorf("terminate after the move = %+v, want done", r)
	}
	if calls := remote.Calls(); len(calls) != 1 || calls[0].SessionID != ref.ID {
		t.Errorf("remote calls = %+v, want one terminate of %s", calls, ref.ID)
	}
	if calls := other.Calls(); len(calls) != 0 {
		t.Errorf("the other server got calls: %+v", calls)
	}

	// 2. The LAN address answers again: move back.
	startSimAt(t, lanAddr, opts)
	waitUntil(t, "the move back to the LAN address", 10*time.Second, on(lan.URL()))
	if got, want := savedURL(), lan.URL(); got != want {
		t.Errorf("saved URL = %q, want %q", got, want)
	}
	mu.Lock()
	got := append([]move(nil), moves...)
	mu.Unlock()
	want := []move{{lan.URL(), remote.URL(), "remote"}, {remote.URL(), lan.URL(), "local network"}}
	if len(got) != len(want) {
		t.Fatalf("moves = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("move %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, m := range got {
		if strings.Contains(m.to, other.Addr()) {
			t.Errorf("moved to the wrong server: %+v", m)
		}
	}
}

// TestServerStaysWhenNothingAnswers: with every address dead the watcher
// keeps probing but leaves the URL (and the saved config) alone.
func TestServerStaysWhenNothingAnswers(t *testing.T) {
	const machine = "pms-den"
	opts := plexsim.Options{Token: simToken, MachineID: machine, PingInterval: 100 * time.Millisecond}
	lan := startSim(t, opts)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close()

	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Servers = []ServerConfig{{Name: "Den", URL: lan.URL(), MachineID: machine,
		Connections: []ServerConnection{{URI: lan.URL(), Local: true}, {URI: deadURL}}}}
	if err := SaveConfig(filepath.Join(dir, "config.json"), cfg); err != nil {
		t.Fatal(err)
	}
	secrets := NewMemoryStore()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	_ = secrets.Set(ctx, machine, simToken)
	ctrl, err := NewController(ControllerOptions{ConfigDir: dir, Secrets: secrets, Getenv: func(string) string { return "" },
		Reprobe: ReprobeOptions{After: 100 * time.Millisecond, Every: 100 * time.Millisecond, MaxWait: 200 * time.Millisecond, Probe: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	moved := false
	ctrl.SetHooks(Hooks{Moved: func(string, string, string, string) { moved = true }})
	defer func() { cancel(); ctrl.Hub().Wait() }()
	if err := ctrl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	mon := ctrl.Hub().Monitor("Den")
	waitUntil(t, "connected", 5*time.Second, func() bool { return mon.Snapshot().Conn.Status == Connected })
	lan.Close()
	waitUntil(t, "the loss", 5*time.Second, func() bool { return mon.Snapshot().Conn.Status != Connected })
	time.Sleep(time.Second) // several probe rounds
	if got := mon.Snapshot().URL; got != lan.URL() {
		t.Errorf("URL = %q, want %q kept", got, lan.URL())
	}
	c, _ := LoadConfig(filepath.Join(dir, "config.json"))
	if got := c.Servers[0].URL; got != lan.URL() {
		t.Errorf("saved URL = %q, want %q kept", got, lan.URL())
	}
	if moved {
		t.Error("Moved hook called with no address answering")
	}
}
