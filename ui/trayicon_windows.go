package ui

import (
	"bytes"
	"image"
	_ "image/png" // the tray icons are PNG

	"github.com/fyne-io/image/ico"
)

// osTrayIcon converts a PNG to the ICO the Windows notification area needs
// (as Fyne's own tray does).
func osTrayIcon(png []byte) ([]byte, error) {
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := ico.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
