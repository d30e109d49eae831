//go:build linux || freebsd || openbsd || netbsd

package alert

// dbusPopups: desktop popups go through org.freedesktop.Notifications.
const dbusPopups = true
