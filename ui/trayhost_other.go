//go:build !(linux || freebsd || openbsd || netbsd)

package ui

// TrayHostAvailable reports true: Windows and macOS always have a tray
// (notification area, menu bar).
func TrayHostAvailable() bool { return true }
