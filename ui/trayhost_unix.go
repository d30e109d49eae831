//go:build linux || freebsd || openbsd || netbsd

package ui

import "github.com/godbus/dbus/v5"

// TrayHostAvailable reports whether a system tray can show Plex Warden's
// icon. On Linux and the BSDs that needs a StatusNotifierItem host, found
// as the owner of org.kde.StatusNotifierWatcher on the session bus: stock
// GNOME has none without the AppIndicator extension, and without one the
// tray fails with a single log line and the app would be invisible.
func TrayHostAvailable() bool {
	conn, err := dbus.SessionBus() // shared with Fyne and systray: do not Close
	if err != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
