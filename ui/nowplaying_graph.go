package ui

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
)

// graphHeight is the traffic graph's height.
const graphHeight = 96

// trafficGraph draws one server's last hour: bandwidth as a line (LAN and
// WAN together) over bars of the number of transcodes, each on its own
// scale, with the peaks written in the legend. Each sample holds until
// the next (or until now).
type trafficGraph struct {
	widget.BaseWidget
	samples []app.TrafficSample
	now     time.Time
	window  time.Duration
}

func newTrafficGraph(window time.Duration) *trafficGraph {
	g := &trafficGraph{window: window}
	g.ExtendBaseWidget(g)
	return g
}

// set shows samples up to now (UI goroutine).
func (g *trafficGraph) set(samples []app.TrafficSample, now time.Time) {
	g.samples, g.now = samples, now
	g.Refresh()
}

// peaks returns the highest bandwidth and transcode count of the samples.
func (g *trafficGraph) peaks() (kbps int64, transcodes int) {
	for _, s := range g.samples {
		kbps = max(kbps, s.Kbps())
		transcodes = max(transcodes, s.Transcodes)
	}
	return
}

// minGraphSpan is the shortest stretch of time the graph spreads over its
// width: until samples cover the window (an hour), it shows the time it
// has, so the first minutes are not a sliver at the right edge.
const minGraphSpan = 5 * time.Minute

// span is the time the graph's width stands for: from the first sample to
// now, at least minGraphSpan, at most the window.
func (g *trafficGraph) span() time.Duration {
	if len(g.samples) == 0 {
		return g.window
	}
	return min(max(g.now.Sub(g.samples[0].Time), minGraphSpan), g.window)
}

// spanText names the span: "last hour", "last 12 min".
func (g *trafficGraph) spanText() string {
	d := g.span()
	if d >= time.Hour {
		return "last hour"
	}
	return fmt.Sprintf("last %d min", int((d+time.Minute-1)/time.Minute))
}

// legendText is the graph's caption: "Bandwidth, last hour: peak 24.1
// Mbps" and "Transcodes: up to 3".
func (g *trafficGraph) legendText() (bw, tc string) {
	kbps, n := g.peaks()
	return "Bandwidth, " + g.spanText() + ": peak " + bitrateText(kbps), fmt.Sprintf("Transcodes: up to %d", n)
}

// CreateRenderer implements fyne.Widget.
func (g *trafficGraph) CreateRenderer() fyne.WidgetRenderer {
	r := &graphRenderer{g: g, bg: canvas.NewRectangle(color.Transparent),
		bwLegend: canvas.NewText("", nil), tcLegend: canvas.NewText("", nil),
		start: canvas.NewText("", nil), end: canvas.NewText("now", nil),
		bwKey: canvas.NewRectangle(nil), tcKey: canvas.NewRectangle(nil)}
	r.bg.CornerRadius = 4
	r.Refresh()
	return r
}

type graphRenderer struct {
	g                  *trafficGraph
	bg                 *canvas.Rectangle
	bars               []*canvas.Rectangle
	lines              []*canvas.Line
	bwLegend, tcLegend *canvas.Text
	bwKey, tcKey       *canvas.Rectangle // colour swatches before the legends
	start, end         *canvas.Text
	objects            []fyne.CanvasObject
}

func (r *graphRenderer) Destroy() {}

func (r *graphRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *graphRenderer) MinSize() fyne.Size { return fyne.NewSize(120, graphHeight) }

// Layout places the samples: x by time over the window, bandwidth on the
// upper scale, transcodes as bars from the bottom.
func (r *graphRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	pad := float32(4)
	legendH := r.bwLegend.MinSize().Height
	key := fyne.NewSize(12, 4)
	keyY := pad + (legendH-key.Height)/2
	r.bwKey.Resize(key)
	r.bwKey.Move(fyne.NewPos(pad*2, keyY))
	r.bwLegend.Move(fyne.NewPos(pad*3+key.Width, pad))
	tcX := size.Width - r.tcLegend.MinSize().Width - pad*2
	r.tcLegend.Move(fyne.NewPos(tcX, pad))
	r.tcKey.Resize(key)
	r.tcKey.Move(fyne.NewPos(tcX-pad-key.Width, keyY))
	r.start.Move(fyne.NewPos(pad*2, size.Height-r.start.MinSize().Height-pad))
	r.end.Move(fyne.NewPos(size.Width-r.end.MinSize().Width-pad*2, size.Height-r.end.MinSize().Height-pad))
	top := legendH + 2*pad
	bottom := size.Height - r.start.MinSize().Height - 2*pad
	left, right := pad*2, size.Width-pad*2
	plotH, plotW := bottom-top, right-left
	g := r.g
	kbps, tcMax := g.peaks()
	span := g.span()
	from := g.now.Add(-span)
	xOf := func(t time.Time) float32 {
		f := float32(t.Sub(from)) / float32(span)
		return left + min(max(f, 0), 1)*plotW
	}
	yBW := func(v int64) float32 {
		if kbps <= 0 {
			return bottom
		}
		return bottom - float32(v)/float32(kbps)*plotH
	}
	li := 0
	for i, s := range g.samples {
		x0 := xOf(s.Time)
		x1 := right
		if i+1 < len(g.samples) {
			x1 = xOf(g.samples[i+1].Time)
		}
		bar := r.bars[i]
		if tcMax > 0 && s.Transcodes > 0 {
			h := float32(s.Transcodes) / float32(tcMax) * plotH * 0.6
			bar.Move(fyne.NewPos(x0, bottom-h))
			bar.Resize(fyne.NewSize(max(x1-x0, 1), h))
			bar.Show()
		} else {
			bar.Hide()
		}
		y := yBW(s.Kbps())
		flat := r.lines[li]
		flat.Position1, flat.Position2 = fyne.NewPos(x0, y), fyne.NewPos(x1, y)
		li++
		rise := r.lines[li]
		li++
		if i+1 < len(g.samples) {
			rise.Position1, rise.Position2 = fyne.NewPos(x1, y), fyne.NewPos(x1, yBW(g.samples[i+1].Kbps()))
			rise.Show()
		} else {
			rise.Hide()
		}
	}
}

// Refresh rebuilds the objects for the current samples and theme.
func (r *graphRenderer) Refresh() {
	g := r.g
	th := g.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	size := th.Size(theme.SizeNameCaptionText)
	r.bg.FillColor = th.Color(theme.ColorNameInputBackground, v)
	bwColor := th.Color(theme.ColorNamePrimary, v)
	tcColor := withAlpha(th.Color(theme.ColorNameWarning, v), 0x70)
	for len(r.bars) < len(g.samples) {
		r.bars = append(r.bars, canvas.NewRectangle(tcColor))
	}
	r.bars = r.bars[:len(g.samples)]
	for len(r.lines) < 2*len(g.samples) {
		r.lines = append(r.lines, canvas.NewLine(bwColor))
	}
	r.lines = r.lines[:2*len(g.samples)]
	for _, b := range r.bars {
		b.FillColor = tcColor
	}
	for _, l := range r.lines {
		l.StrokeColor, l.StrokeWidth = bwColor, 2
	}
	bw, tc := g.legendText()
	r.bwLegend.Text, r.tcLegend.Text = bw, tc
	r.start.Text = strings.TrimPrefix(g.spanText(), "last ") + " ago"
	r.bwLegend.Color = th.Color(theme.ColorNameForeground, v)
	r.tcLegend.Color = r.bwLegend.Color
	r.bwKey.FillColor, r.tcKey.FillColor = bwColor, tcColor // the keys to the colours
	r.start.Color = th.Color(theme.ColorNamePlaceHolder, v)
	r.end.Color = r.start.Color
	for _, t := range []*canvas.Text{r.bwLegend, r.tcLegend, r.start, r.end} {
		t.TextSize = size
	}
	r.objects = r.objects[:0]
	r.objects = append(r.objects, r.bg)
	for _, b := range r.bars {
		r.objects = append(r.objects, b)
	}
	for _, l := range r.lines {
		r.objects = append(r.objects, l)
	}
	r.objects = append(r.objects, r.bwKey, r.bwLegend, r.tcKey, r.tcLegend, r.start, r.end)
	r.Layout(g.Size())
	canvas.Refresh(g)
}
