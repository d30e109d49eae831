// Package assets embeds Plex Warden's icons: the application icon and the
// four tray icons, one per state. The SVG files beside the PNGs are the
// sources; the PNGs were rasterised from them with Fyne's own SVG renderer
// (tray icons at 64 px, the size Fyne hands to the system tray, and the app
// icon at 512 px for FyneApp.toml and `fyne package`). Re-render the PNGs
// after editing an SVG. icon-48.png, the 48×48 icon `make install` puts in
// the hicolor theme, is icon.png scaled down (ImageMagick, Lanczos).
//
// The package imports nothing from Fyne: callers wrap the bytes with
// fyne.NewStaticResource.
package assets

import _ "embed" // for //go:embed

// AppIcon is the application icon, a 512×512 PNG (assets/icon.png).
//
//go:embed icon.png
var AppIcon []byte

// AppIconSVG is the scalable source of AppIcon.
//
//go:embed icon.svg
var AppIconSVG []byte

// TrayIdle is the tray icon when nothing plays: a grey shield with an eye (64×64 PNG).
//
//go:embed tray-idle.png
var TrayIdle []byte

// TrayPlaying is the tray icon while only direct play or direct stream
// sessions run: a green shield with a play triangle (64×64 PNG).
//
//go:embed tray-playing.png
var TrayPlaying []byte

// TrayTranscoding is the tray icon while at least one session transcodes:
// an orange shield with two opposed arrows (64×64 PNG).
//
//go:embed tray-transcoding.png
var TrayTranscoding []byte

// TrayProblem is the tray icon when a server rejects its token or cannot
// be reached: a red shield with an exclamation mark (64×64 PNG).
//
//go:embed tray-problem.png
var TrayProblem []byte
