package ui

import (
	"context"

	"fyne.io/fyne/v2"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/alert"
)

// AlertsBackend is the domain side of notifications (desktop.App).
type AlertsBackend interface {
	// NotificationsChanged applies the saved notification switches.
	NotificationsChanged()
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
