//go:build !(linux || freebsd || openbsd || netbsd)

package ui

import "fyne.io/fyne/v2/driver/desktop"

// newTrayHost returns the tray the UI drives. On Windows and macOS that
// stays Fyne's desktop.App tray: there the tray is a native window or
// status item in Fyne's event loop on the main thread, and Fyne's tray
// handles it (its hidden GL window costs memory there too, but driving
// fyne.io/systray directly lost the tray menu's Quit under Wine; the
// memory target is measured on Linux, docs/BENCHMARKS.md).
func (u *UI) newTrayHost(desk desktop.App) trayHost {
	desk.SetSystemTrayWindow(u.win) // left click shows the window
	u.setCloseBehaviour()           // SetSystemTrayWindow installed its own
	return desk
}

// systrayHost is only used on Linux and the BSDs (trayhost_systray.go).
type systrayHost struct{}

func (*systrayHost) run() {}
func (*systrayHost) end() {}
