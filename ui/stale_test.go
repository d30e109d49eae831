package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
)

// TestStaleSessionsWhileServerDown: while the server is down its sessions
// are greyed and "last known at HH:MM", actions are off with the reason,
// and the failure line clears once it is back (issue 14.3).
func TestStaleSessionsWhileServerDown(t *testing.T) {
	b := newFakeBackend()
	u := newTestUI(t, b, fixedState())
	v := u.sessions
	u.status.showResult("Terminate alice · The Matrix: failed: connection refused", widget.DangerImportance)

	down := fixedState()
	lastEvent := time.Date(2026, 3, 14, 12, 3, 4, 0, time.UTC)
	down.Servers[0].Conn = app.Conn{Status: app.Unreachable, LastEvent: lastEvent, Since: testNow}
	u.apply(down)

	state := colState(t)
	at := lastEvent.In(testNow.Location()).Format("15:04")
	env := v.grid.env()
	if got, want := state.text(&v.rows[0], env), "last known at "+at; got != want {
		t.Errorf("State of a stale row = %q, want %q", got, want)
	}
	if !v.grid.dim(&v.rows[0], env) {
		t.Error("stale rows are not greyed")
	}
	v.table.Select(widget.TableCellID{Row: 0, Col: 0})
	d := v.details
	if !d.terminate.Disabled() || !d.stop.Disabled() {
		t.Error("Terminate/Stop enabled on a session of a down server")
	}
	if got, want := d.reason.Text, downReason("Demo server"); got != want {
		t.Errorf("details reason %q, want %q", got, want)
	}
	u.confirmTerminate(v.selected) // e.g. from the tray or the keyboard
	if u.Window().Canvas().Overlays().Top() != nil {
		t.Error("Terminate… opened a dialog for a session of a down server")
	}
	if got := u.status.result.Text; got != downReason("Demo server") {
		t.Errorf("status %q, want the reason", got)
	}
	u.status.showResult("Terminate alice · The Matrix: failed: connection refused", widget.DangerImportance)

	u.apply(fixedState()) // back
	if u.status.result.Visible() {
		t.Errorf("failure line %q still shown once the server is back", u.status.result.Text)
	}
	if got := state.text(&v.rows[0], v.grid.env()); got == "last known at "+at || v.grid.dim(&v.rows[0], v.grid.env()) {
		t.Errorf("row still stale once the server is back: %q", got)
	}
}

func colState(t *testing.T) *column[app.Session] {
	t.Helper()
	c := columnNamed(sessionColumns, "State")
	if c == nil {
		t.Fatal("no State column")
	}
	return c
}
