package ui

import (
	"fyne.io/fyne/v2"

	"github.com/plexwarden/plexwarden/app"
)

// sendNotification shows one desktop popup. It runs on the notifier's
// goroutine, never the UI goroutine: on Linux Fyne's SendNotification is a
// synchronous DBus call to the notification daemon.
func (u *UI) sendNotification(n app.Notification) {
	u.app.SendNotification(fyne.NewNotification(n.Title, n.Body))
}
