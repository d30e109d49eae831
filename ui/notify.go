package ui

import (
	"context"

	"fyne.io/fyne/v2"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
)

// AlertsBackend is the domain side of notifications (desktop.App): the
// popup switches and the alert channels of Settings.
type AlertsBackend interface {
	// NotificationsChanged applies the saved notification switches.
	NotificationsChanged()
	// AlertChannels are the configured channels.
	AlertChannels() []app.AlertChannel
	// HasAlertSecret reports whether a channel has a secret stored.
	HasAlertSecret(name string) bool
	// SaveAlertChannel adds ch or replaces the channel named old; secret
	// nil keeps the stored one. It may block on the keyring.
	SaveAlertChannel(ctx context.Context, old string, ch app.AlertChannel, secret *string) error
	// RemoveAlertChannel deletes a channel and its secret.
	RemoveAlertChannel(ctx context.Context, name string) error
	// TestAlertChannel sends a test alert rendering a session of st.
	TestAlertChannel(ctx context.Context, ch app.AlertChannel, secret *string, st *app.State) error
	// AlertStatus is a channel's last failure in words, or "".
	AlertStatus(name string) string
}

// FynePopups shows desktop popups through Fyne's SendNotification: the
// fallback where Plex Warden does not talk to the notification server
// itself (Windows, macOS). It cannot set a timeout or offer actions.
func FynePopups(a fyne.App) alert.Sender {
	return alert.SenderFunc(func(_ context.Context, n app.Notification) error {
		// On Linux this is a synchronous DBus call; the dispatcher runs it
		// on the popups' own goroutine, never the UI goroutine.
		a.SendNotification(fyne.NewNotification(n.Title, n.Body))
		return nil
	})
}

// PopupAction carries out the admin's choice in a popup (alert.Popups'
// OnAction; any goroutine): "Open" shows the window, "Terminate…" shows
// it and asks how to end the popup's session.
func (u *UI) PopupAction(n app.Notification, action string) {
	fyne.Do(func() {
		u.showWindow()
		if action == alert.ActionTerminate && n.SessionKey != "" {
			u.confirmTerminate(n.SessionKey) // says so if the session ended meanwhile
		}
	})
}
