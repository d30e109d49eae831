//go:build !(linux || freebsd || openbsd || netbsd)

package alert

// dbusPopups: this platform's popups do not go through D-Bus (Fyne's
// SendNotification handles them).
const dbusPopups = false
