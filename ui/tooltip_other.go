//go:build !linux

package ui

import "fyne.io/systray"

// setTrayTooltip sets the tray tooltip (see tooltip_linux.go for Linux).
func setTrayTooltip(text string) { systray.SetTooltip(text) }
