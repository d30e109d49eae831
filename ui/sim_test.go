package ui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/plex/plexsim"
)

// TestTerminateFlowAgainstSimulator drives the real controller, monitor and
// HTTP client against the simulated server over loopback: tap a row's
// Terminate…, confirm, and the simulator receives the terminate call with
// that session's id and the message from the dialog.
func TestTerminateFlowAgainstSimulator(t *testing.T) {
	sim := plexsim.New(plexsim.Options{Token: "ui-token", PlexPass: true, PingInterval: 200 * time.Millisecond})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	ref := sim.AddSession(plexsim.SessionSpec{User: "carol", Title: "Glass Meridian",
		Player:    plexsim.PlayerSpec{Product: "Plex for Roku", Platform: "Roku", Title: "Bedroom"},
		Transcode: &plexsim.TranscodeSpec{Video: "transcode", Audio: "copy"}})

	env := map[string]string{"PLEX_URL": sim.URL(), "PLEX_TOKEN": "ui-token"}
	ctrl, u, _ := startControllerUI(t, func(k string) string { return env[k] })
	// The test driver runs fyne.Do inline on the calling goroutine, so
	// states are applied from this goroutine instead of through Post.
	deadline := time.Now().Add(5 * time.Second)
	for len(u.sessions.rows) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the session never reached the table")
		}
		time.Sleep(10 * time.Millisecond)
		u.apply(ctrl.Hub().State())
	}
	u.sessions.table.Select(widget.TableCellID{Row: 0, Col: 1})
	test.Tap(u.sessions.details.terminate)
	overlay := u.Window().Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("Terminate… opened no dialog")
	}
	entry := findMultiLineEntry(t, overlay)
	if !strings.Contains(entry.Text, "Roku") {
		t.Errorf("prefilled message %q lacks the Roku instructions", entry.Text)
	}
	msg := "Bedroom Roku: please set Remote quality to Original."
	entry.SetText(msg)
	test.Tap(findButton(t, overlay, "Terminate"))
	u.bg.Wait()

	checkTerminated(t, u, "simulator", sim, ref.ID, msg)
}

// TestTwoSimulatedServersInTheWindow drives two simulated servers through
// the real controller: both servers' sessions reach one table with the
// Server column and the server selector, the selector narrows the table to
// one server, and a terminate from the window reaches only the server the
// session is on.
func TestTwoSimulatedServersInTheWindow(t *testing.T) {
	type server struct {
		name, token string
		sim         *plexsim.Server
	}
	servers := []*server{{name: "Alpha", token: "alpha-token"}, {name: "Beta", token: "beta-token"}}
	for _, s := range servers {
		s.sim = plexsim.New(plexsim.Options{Token: s.token, MachineID: strings.ToLower(s.name) + "-machine",
			FriendlyName: s.name, PlexPass: true, PingInterval: 200 * time.Millisecond})
		if err := s.sim.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.sim.Close() })
	}
	alpha, beta := servers[0].sim, servers[1].sim
	alpha.AddSession(plexsim.SessionSpec{User: "ann", Title: "Night Harbour",
		Player:    plexsim.PlayerSpec{Product: "Plex Web", Platform: "Chrome", Title: "Ann's laptop"},
		Transcode: &plexsim.TranscodeSpec{Video: "transcode", Audio: "copy"}})
	beta.AddSession(plexsim.SessionSpec{User: "ben", Title: "Paper Moons", Local: true,
		Player: plexsim.PlayerSpec{Product: "Plex for Roku", Platform: "Roku", Title: "Den"}})
	bea := beta.AddSession(plexsim.SessionSpec{User: "bea", Title: "Glass Meridian",
		Player:    plexsim.PlayerSpec{Product: "Plex for Roku", Platform: "Roku", Title: "Bedroom"},
		Transcode: &plexsim.TranscodeSpec{Video: "transcode", Audio: "copy"}})

	ctrl, u, ctx := startControllerUI(t, func(string) string { return "" })
	u.Window().Resize(windowSize)
	if !ctrl.Demo() {
		t.Fatal("with no server configured the demo server did not start")
	}
	for _, s := range servers {
		name, err := ctrl.AddServer(ctx, app.NewServer{URL: s.sim.URL(), Token: s.token})
		if err != nil {
			t.Fatalf("adding %s: %v", s.name, err)
		}
		if name != s.name {
			t.Errorf("added server named %q, want %q", name, s.name)
		}
	}

	// The test driver runs fyne.Do inline, so states are applied here.
	perServer := func() map[string]int {
		n := map[string]int{}
		for _, s := range u.sessions.all {
			n[s.Server]++
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for n := perServer(); n["Alpha"] != 1 || n["Beta"] != 2 || len(n) != 2; n = perServer() {
		if time.Now().After(deadline) {
			t.Fatalf("sessions per server %v, want Alpha 1 and Beta 2 (and the demo gone)", n)
		}
		time.Sleep(10 * time.Millisecond)
		u.apply(ctrl.Hub().State())
	}

	v := u.sessions
	if got, want := v.grid.cols[len(v.grid.cols)-1], colServer; got != want {
		t.Errorf("last column %s, want Server", got.title)
	}
	var shown []string
	for i := range v.rows {
		shown = append(shown, colServer.text(&v.rows[i], cellEnv{}))
	}
	// Grouped by server in the order they were added.
	if got, want := strings.Join(shown, ","), "Alpha,Beta,Beta"; got != want {
		t.Errorf("Server column %s, want %s", got, want)
	}
	if !v.serverBox.Visible() {
		t.Error("server selector hidden with two servers")
	}
	if got, want := v.serverSel.Options, []string{allServers, "Alpha", "Beta"}; !slices.Equal(got, want) {
		t.Errorf("selector options %q, want %q", got, want)
	}

	v.serverSel.SetSelected("Beta")
	if got, want := rowUsers(v), "bea,ben"; got != want {
		t.Errorf("Beta selected: rows %s, want %s (transcode first)", got, want)
	}
	if got, want := v.count.Text, "2 of 3 sessions"; got != want {
		t.Errorf("count %q, want %q", got, want)
	}

	v.table.Select(widget.TableCellID{Row: 0, Col: 1}) // bea on Beta
	if s := v.sel; s.Server != "Beta" || s.User != "bea" {
		t.Fatalf("selected %s on %s, want bea on Beta", s.User, s.Server)
	}
	test.Tap(v.details.terminate)
	overlay := u.Window().Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("Terminate… opened no dialog")
	}
	msg := "Bedroom Roku: please set Remote quality to Original."
	findMultiLineEntry(t, overlay).SetText(msg)
	test.Tap(findButton(t, overlay, "Terminate"))
	u.bg.Wait()

	if calls := alpha.Calls(); len(calls) != 0 {
		t.Errorf("Alpha received %d calls, want none: %+v", len(calls), calls)
	}
	checkTerminated(t, u, "Beta", beta, bea.ID, msg)
}

// startControllerUI starts a real controller (in-memory secrets, a temp
// config directory, getenv for PLEX_URL/PLEX_TOKEN) and a UI on it with
// the test driver; everything stops at the end of the test. The context
// is the controller's, bounded to 20 s.
func startControllerUI(t *testing.T, getenv func(string) string) (*app.Controller, *UI, context.Context) {
	t.Helper()
	ctrl, err := app.NewController(app.ControllerOptions{ConfigDir: t.TempDir(), Secrets: app.NewMemoryStore(), Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	u := New(test.NewTempApp(t), ctrl, Options{TrayHost: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(func() {
		cancel()
		ctrl.Hub().Wait()
		u.Stop()
		u.bg.Wait()
	})
	if err := ctrl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return ctrl, u, ctx
}

// checkTerminated checks that sim (named name) received exactly one call,
// a terminate of session id with msg, and that the window says Done.
func checkTerminated(t *testing.T, u *UI, name string, sim *plexsim.Server, id, msg string) {
	t.Helper()
	calls := sim.Calls()
	if len(calls) != 1 {
		t.Fatalf("%s received %d calls, want 1: %+v", name, len(calls), calls)
	}
	if c := calls[0]; c.Kind != plexsim.CallTerminate || c.SessionID != id || c.Reason != msg {
		t.Errorf("%s's call = %+v, want terminate of %s with %q", name, c, id, msg)
	}
	if got := u.status.result.Text; !strings.Contains(got, "Done") {
		t.Errorf("status = %q, want Done", got)
	}
}
