package ui

import (
	"context"
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
	ctrl, err := app.NewController(app.ControllerOptions{ConfigDir: t.TempDir(), Secrets: app.NewMemoryStore(),
		Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	u := New(a, ctrl, Options{TrayHost: true})
	// The test driver runs fyne.Do inline on the calling goroutine, so
	// states are applied from this goroutine instead of through Post.
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

	calls := sim.Calls()
	if len(calls) != 1 {
		t.Fatalf("simulator received %d calls, want 1: %+v", len(calls), calls)
	}
	if c := calls[0]; c.Kind != plexsim.CallTerminate || c.SessionID != ref.ID || c.Reason != msg {
		t.Errorf("call = %+v, want terminate of %s with %q", c, ref.ID, msg)
	}
	if got := u.status.result.Text; !strings.Contains(got, "Done") {
		t.Errorf("status = %q, want Done", got)
	}
}
