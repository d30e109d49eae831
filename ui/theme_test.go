package ui

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// relativeLuminance is WCAG 2's relative luminance of c (alpha ignored).
func relativeLuminance(c color.Color) float64 {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(n.R) + 0.7152*lin(n.G) + 0.0722*lin(n.B)
}

// contrastRatio is WCAG 2's contrast ratio of two colours, 1 to 21.
func contrastRatio(a, b color.Color) float64 {
	la, lb := relativeLuminance(a), relativeLuminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func TestContrastRatio(t *testing.T) {
	tests := []struct {
		a, b color.Color
		want float64
	}{
		{color.White, color.Black, 21},
		{color.White, color.White, 1},
		{color.NRGBA{R: 0x43, G: 0xf4, B: 0x36, A: 0xff}, color.White, 1.48}, // Fyne's success green: the defect
		{color.NRGBA{R: 0xff, G: 0x98, B: 0x00, A: 0xff}, color.White, 2.16}, // Fyne's warning orange
	}
	for _, tt := range tests {
		if got := contrastRatio(tt.a, tt.b); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("contrastRatio(%v, %v) = %.2f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
}

// Every colour the window writes status and decisions in (connection
// lines, Direct Play green, transcode orange, errors red) reads at 4.5:1 or
// better on the window's background and on the cards' input background,
// in the light and the dark theme, with the theme New installs.
func TestStatusColoursContrast(t *testing.T) {
	a := test.NewTempApp(t)
	a.Settings().SetTheme(theme.DefaultTheme()) // the real colours, not the test theme's
	New(a, newFakeBackend(), Options{}).Stop()
	th := a.Settings().Theme()
	imps := map[string]widget.Importance{"success": widget.SuccessImportance, "warning": widget.WarningImportance,
		"danger": widget.DangerImportance}
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		for name, imp := range imps {
			for _, bg := range []fyne.ThemeColorName{theme.ColorNameBackground, theme.ColorNameInputBackground} {
				fg := th.Color(importanceColor(imp), v)
				back := th.Color(bg, v)
				if r := contrastRatio(fg, back); r < 4.5 {
					t.Errorf("variant %d: %s text %v on %s %v: contrast %.2f:1, want at least 4.5:1", v, name, fg, bg, back, r)
				}
			}
		}
		// Buttons of those importances write on the colour.
		for _, pair := range [][2]fyne.ThemeColorName{
			{theme.ColorNameForegroundOnSuccess, theme.ColorNameSuccess},
			{theme.ColorNameForegroundOnWarning, theme.ColorNameWarning},
			{theme.ColorNameForegroundOnError, theme.ColorNameError},
		} {
			if r := contrastRatio(th.Color(pair[0], v), th.Color(pair[1], v)); r < 4.5 {
				t.Errorf("variant %d: %s on %s: contrast %.2f:1, want at least 4.5:1", v, pair[0], pair[1], r)
			}
		}
	}
	if _, ok := th.(contrastTheme); !ok {
		t.Errorf("New left the theme %T, want contrastTheme", th)
	}
}
