package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// lineText is one line of text without a label's inner padding, shortened
// with "…" to its width (fitText), in the colour of its importance: the
// Now Playing cards stack several lines and stay compact.
type lineText struct {
	widget.BaseWidget
	text  string
	imp   widget.Importance
	bold  bool
	scale float32 // text size relative to the theme's (0: 1)
	// natural: as wide as the whole text (for a slot that sizes to its
	// content); otherwise as narrow as a layout makes it.
	natural bool
}

func newLineText(imp widget.Importance, bold bool, scale float32) *lineText {
	t := &lineText{imp: imp, bold: bold, scale: scale}
	t.ExtendBaseWidget(t)
	return t
}

// set changes the text and importance, refreshing only on a change.
func (t *lineText) set(text string, imp widget.Importance) {
	if t.text == text && t.imp == imp {
		return
	}
	t.text, t.imp = text, imp
	t.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (t *lineText) CreateRenderer() fyne.WidgetRenderer {
	r := &lineTextRenderer{t: t, text: canvas.NewText("", nil)}
	r.Refresh()
	return r
}

// importanceColor is the text colour of an importance, as widget.Label
// uses it.
func importanceColor(imp widget.Importance) fyne.ThemeColorName {
	switch imp {
	case widget.SuccessImportance:
		return theme.ColorNameSuccess
	case widget.WarningImportance:
		return theme.ColorNameWarning
	case widget.DangerImportance:
		return theme.ColorNameError
	case widget.HighImportance:
		return theme.ColorNamePrimary
	case widget.LowImportance:
		return theme.ColorNamePlaceHolder
	}
	return theme.ColorNameForeground
}

type lineTextRenderer struct {
	t     *lineText
	text  *canvas.Text
	width float32
	shown string
}

func (r *lineTextRenderer) Destroy() {}

func (r *lineTextRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.text} }

func (r *lineTextRenderer) MinSize() fyne.Size {
	h := fyne.MeasureText("Ag", r.text.TextSize, r.text.TextStyle).Height
	if r.t.natural {
		return fyne.NewSize(fyne.MeasureText(r.t.text, r.text.TextSize, r.text.TextStyle).Width, h)
	}
	return fyne.NewSize(h, h)
}

func (r *lineTextRenderer) Layout(size fyne.Size) {
	if r.shown != r.t.text || r.width != size.Width {
		r.text.Text = fitText(r.t.text, size.Width, r.text.TextSize, r.text.TextStyle)
		r.shown, r.width = r.t.text, size.Width
	}
	r.text.Resize(size)
	r.text.Move(fyne.NewPos(0, 0))
}

func (r *lineTextRenderer) Refresh() {
	th := r.t.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	scale := r.t.scale
	if scale == 0 {
		scale = 1
	}
	r.text.TextSize = th.Size(theme.SizeNameText) * scale
	r.text.TextStyle = fyne.TextStyle{Bold: r.t.bold}
	r.text.Color = th.Color(importanceColor(r.t.imp), v)
	r.shown = "\x00" // refit
	r.Layout(r.t.Size())
	r.text.Refresh()
}
