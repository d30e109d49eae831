package ui

import (
	"testing"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
)

// A popup's "Terminate…" shows the window with the terminate dialog of its
// session; "Open" only shows the window; a session that ended meanwhile is
// said so in the status line.
func TestPopupAction(t *testing.T) {
	alice := aliceSession()
	tests := []struct {
		name       string
		action     string
		key        string
		wantDialog bool
		wantStatus string
	}{
		{"terminate", alert.ActionTerminate, alice.Key(), true, ""},
		{"open", alert.ActionOpen, alice.Key(), false, ""},
		{"terminate an ended session", alert.ActionTerminate, "Demo server/999", false, "That session has already ended."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newTestUI(t, newFakeBackend(), fixedState())
			u.Window().Hide()
			u.PopupAction(app.Notification{Kind: app.NotifyTranscode, SessionKey: tt.key}, tt.action)
			overlay := u.Window().Canvas().Overlays().Top()
			if got := overlay != nil; got != tt.wantDialog {
				t.Fatalf("dialog open = %v, want %v", got, tt.wantDialog)
			}
			if tt.wantDialog {
				findButton(t, overlay, "Terminate")
			}
			if tt.wantStatus != "" && u.status.result.Text != tt.wantStatus {
				t.Errorf("status line = %q, want %q", u.status.result.Text, tt.wantStatus)
			}
		})
	}
}
