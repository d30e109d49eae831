//go:build !windows

package ui

// osTrayIcon returns the PNG as it is: the StatusNotifierItem (Linux, BSD)
// and macOS trays take PNG.
func osTrayIcon(png []byte) ([]byte, error) { return png, nil }
