package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// tableCell is a compact cell of the sessions table: one line of text,
// shortened with "…" to fit, optionally bold in the warning colour with a
// warning icon (transcodes). widget.Label pads its text by the theme's inner
// padding on both sides, which made the table wider than the window.
type tableCell struct {
	widget.BaseWidget
	text string
	warn bool
	dim  bool // greyed: last known data of a server that is down
	row  bool // in the selected row: the whole row is highlighted

	// The theme and variant the renderer last styled the cell with. Cells
	// hidden in another tab miss the refresh of a theme change, and set
	// skips unchanged cells, so set compares these to restyle them.
	styledTheme   fyne.Theme
	styledVariant fyne.ThemeVariant
}

func newTableCell() *tableCell {
	c := &tableCell{}
	c.ExtendBaseWidget(c)
	return c
}

// set changes the cell, refreshing only when something changed (the table
// updates every visible cell on each state).
func (c *tableCell) set(text string, warn bool) { c.setStyled(text, warn, false) }

// setStyled is set with the greyed style when dim (which beats warn).
func (c *tableCell) setStyled(text string, warn, dim bool) { c.setRow(text, warn, dim, c.row) }

// setRow is setStyled with the cell's row selected or not.
func (c *tableCell) setRow(text string, warn, dim, row bool) {
	warn = warn && !dim
	if c.text == text && c.warn == warn && c.dim == dim && c.row == row && c.styledTheme == c.Theme() &&
		c.styledVariant == fyne.CurrentApp().Settings().ThemeVariant() {
		return
	}
	c.text, c.warn, c.dim, c.row = text, warn, dim, row
	c.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (c *tableCell) CreateRenderer() fyne.WidgetRenderer {
	r := &cellRenderer{
		c:    c,
		text: canvas.NewText("", nil),
		bg:   canvas.NewRectangle(color.Transparent),
		icon: canvas.NewImageFromResource(theme.NewWarningThemedResource(theme.WarningIcon())),
	}
	r.Refresh()
	return r
}

type cellRenderer struct {
	c     *tableCell
	bg    *canvas.Rectangle // the selected row's highlight
	text  *canvas.Text
	icon  *canvas.Image
	shown string  // c.text as last fitted
	width float32 // the width it was fitted to
}

func (r *cellRenderer) Destroy() {}

func (r *cellRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.bg, r.icon, r.text}
}

func (r *cellRenderer) MinSize() fyne.Size {
	th := r.c.Theme()
	pad := th.Size(theme.SizeNamePadding)
	h := fyne.MeasureText("Ag", r.text.TextSize, r.text.TextStyle).Height
	return fyne.NewSize(2*pad+h, h+2*pad)
}

func (r *cellRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	pad := r.c.Theme().Size(theme.SizeNamePadding)
	x := pad
	if r.c.warn {
		s := r.text.TextSize + 2
		r.icon.Resize(fyne.NewSquareSize(s))
		r.icon.Move(fyne.NewPos(x, (size.Height-s)/2))
		x += s + pad
	}
	avail := size.Width - x - pad
	if r.shown != r.c.text || r.width != avail {
		r.text.Text = fitText(r.c.text, avail, r.text.TextSize, r.text.TextStyle)
		r.shown, r.width = r.c.text, avail
	}
	h := fyne.MeasureText("Ag", r.text.TextSize, r.text.TextStyle).Height
	r.text.Resize(fyne.NewSize(avail, h))
	r.text.Move(fyne.NewPos(x, (size.Height-h)/2))
}

func (r *cellRenderer) Refresh() {
	th := r.c.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.c.styledTheme, r.c.styledVariant = th, v
	r.text.TextSize = th.Size(theme.SizeNameText)
	r.text.TextStyle = fyne.TextStyle{Bold: r.c.warn}
	r.text.Color = th.Color(theme.ColorNameForeground, v)
	if r.c.dim {
		r.text.Color = th.Color(theme.ColorNameDisabled, v)
	}
	if r.c.row {
		r.bg.FillColor = th.Color(theme.ColorNameSelection, v)
		r.bg.Show()
	} else {
		r.bg.Hide()
	}
	r.bg.Refresh()
	if r.c.warn {
		r.text.Color = th.Color(theme.ColorNameWarning, v)
		r.icon.Show()
	} else {
		r.icon.Hide()
	}
	r.shown = "\x00" // refit
	r.Layout(r.c.Size())
	r.text.Refresh()
	r.icon.Refresh()
}

// fitText shortens s with "…" so that it is at most width wide.
func fitText(s string, width, size float32, style fyne.TextStyle) string {
	if s == "" || fyne.MeasureText(s, size, style).Width <= width {
		return s
	}
	runes := []rune(s)
	lo, hi := 0, len(runes) // the longest prefix that fits is in [lo, hi)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fyne.MeasureText(strings.TrimRight(string(runes[:mid]), " ")+"…", size, style).Width <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return "…"
	}
	return strings.TrimRight(string(runes[:lo]), " ") + "…"
}
