//go:build linux

package ui

import "fyne.io/systray"

// setTrayTooltip sets the tray tooltip. On Linux many StatusNotifierItem
// hosts show the item's title rather than its ToolTip property, so the
// title is set too (as Tailscale's tray does); on macOS the title would be
// text beside the icon, hence this Linux-only file.
func setTrayTooltip(text string) {
	systray.SetTooltip(text)
	systray.SetTitle(text)
}
