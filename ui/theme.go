package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// contrastTheme is the app's theme with status colours readable as text:
// Fyne's success green (1.5:1 on white) and warning orange (2.2:1) are
// darkened for the light variant, and its error red lightened a little
// for the dark one, so each meets WCAG's 4.5:1 for text on the window's
// background and on the input background the cards use
// (TestStatusColoursContrast). Everything else is the wrapped theme's.
type contrastTheme struct {
	fyne.Theme
}

// Status colours of the light variant (on white text reads 5–6:1; white on
// them, as buttons draw it, too).
var (
	lightSuccess = color.NRGBA{R: 0x1b, G: 0x7a, B: 0x2e, A: 0xff}
	lightWarning = color.NRGBA{R: 0xa8, G: 0x50, B: 0x00, A: 0xff}
	lightError   = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	darkError    = color.NRGBA{R: 0xff, G: 0x5f, B: 0x52, A: 0xff}
)

// Color implements fyne.Theme.
func (t contrastTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	switch {
	case v == theme.VariantLight && n == theme.ColorNameSuccess:
		return lightSuccess
	case v == theme.VariantLight && n == theme.ColorNameWarning:
		return lightWarning
	case v == theme.VariantLight && n == theme.ColorNameError:
		return lightError
	case v == theme.VariantDark && n == theme.ColorNameError:
		return darkError
	}
	return t.Theme.Color(n, v)
}

// useContrastTheme wraps the app's current theme (once).
func useContrastTheme(a fyne.App) {
	s := a.Settings()
	if _, ok := s.Theme().(contrastTheme); ok {
		return
	}
	s.SetTheme(contrastTheme{Theme: s.Theme()})
}
