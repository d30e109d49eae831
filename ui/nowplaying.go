package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // Plex's posters
	_ "image/png"  // the simulator's posters
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/internal/words"
	"github.com/plexwarden/plexwarden/plex"
)

// ThumbBackend fetches posters for the Now Playing view: a session's
// Session.Thumb path on its server, through the server's Plex client
// (token in the header), cached in memory. It may block and is called off
// the UI goroutine.
type ThumbBackend interface {
	Thumb(ctx context.Context, server, path string) ([]byte, error)
}

// The Now Playing graph keeps an hour at one sample per trafficStep; while
// the view is up it samples at least that often, so a quiet hour still
// draws a line.
const (
	trafficWindow = time.Hour
	trafficStep   = 10 * time.Second
)

// Poster sizes: the card's picture, and the largest image decoded.
var posterSize = fyne.NewSize(64, 96)

const maxPosterPixels = 4096 * 4096

// cardMinWidth is the narrowest a session card gets: the cards flow into
// as many columns as fit (two at 1100 px, one at 800 px).
const cardMinWidth = 480

// nowPlayingView is the Now Playing tab: per server a header with the
// totals, a graph of the last hour, and one card per session with its
// poster, progress and decision — what an admin reads at a glance.
type nowPlayingView struct {
	u       *UI
	traffic *app.Traffic
	thumbs  ThumbBackend // nil: no posters
	ticking bool         // a sample tick is scheduled
	fetches []func()     // poster fetches to start once setState is done

	servers  *fyne.Container // one section per server
	sections map[string]*npSection
	empty    *widget.Label
	content  fyne.CanvasObject
}

// npSection is one server's part of the view.
type npSection struct {
	name    *lineText
	totals  *lineText
	graph   *trafficGraph
	cards   *fyne.Container // of card boxes, in the snapshot's order
	byKey   map[string]*npCard
	idle    *lineText // "Nothing is playing."
	content *fyne.Container
}

// npCard is one session.
type npCard struct {
	key      string
	thumb    string // the poster path shown or being fetched
	poster   *canvas.Image
	title    *lineText
	who      *lineText
	bar      *progressBar
	time     *lineText
	decision *lineText
	reason   *lineText
	net      *lineText
	box      fyne.CanvasObject
}

func newNowPlayingView(u *UI, thumbs ThumbBackend) *nowPlayingView {
	v := &nowPlayingView{u: u, thumbs: thumbs, traffic: app.NewTraffic(trafficWindow, trafficStep),
		sections: map[string]*npSection{}, servers: container.NewVBox()}
	v.empty = widget.NewLabel("")
	v.empty.Wrapping = fyne.TextWrapWord
	v.empty.Importance = widget.LowImportance
	v.content = container.NewVScroll(container.NewPadded(container.NewVBox(v.empty, v.servers)))
	return v
}

// setState shows st (UI goroutine): sections follow the servers, cards
// the sessions; the traffic graph gets a sample.
func (v *nowPlayingView) setState(st *app.State) {
	now := v.u.now()
	v.traffic.AddState(st, now)
	if len(st.Servers) == 0 {
		v.empty.SetText(emptyText(st))
		v.empty.Show()
	} else {
		v.empty.Hide()
	}
	seen := map[string]bool{}
	var objs []fyne.CanvasObject
	for _, sn := range st.Servers {
		sec := v.sections[sn.Server]
		if sec == nil {
			sec = v.newSection()
			v.sections[sn.Server] = sec
		}
		seen[sn.Server] = true
		v.updateSection(sec, sn, now)
		objs = append(objs, sec.content)
	}
	for name := range v.sections {
		if !seen[name] {
			delete(v.sections, name)
			v.traffic.Forget(name)
		}
	}
	if !slices.Equal(v.servers.Objects, objs) {
		v.servers.Objects = objs
		v.servers.Refresh()
	}
	v.tick()
	// Fetches start after the widgets are laid out: the test driver runs
	// fyne.Do at once on the fetching goroutine, which must not overlap
	// this apply.
	for _, f := range v.fetches {
		f()
	}
	v.fetches = v.fetches[:0]
}

// tick samples again after trafficStep on a running app (tests with a
// fixed clock would tick forever), so the graph moves when nothing else
// does.
func (v *nowPlayingView) tick() {
	if v.ticking || !v.u.started {
		return
	}
	v.ticking = true
	v.u.later(trafficStep, func() {
		v.ticking = false
		if v.u.ctx.Err() == nil {
			v.setState(v.u.state)
		}
	})
}

func (v *nowPlayingView) newSection() *npSection {
	sec := &npSection{
		name:   newLineText(widget.MediumImportance, true, 1.25),
		totals: newLineText(widget.MediumImportance, false, 0),
		graph:  newTrafficGraph(trafficWindow),
		idle:   newLineText(widget.LowImportance, false, 0),
		byKey:  map[string]*npCard{},
		cards:  container.New(&cardsLayout{minWidth: cardMinWidth}),
	}
	sec.idle.set("Nothing is playing.", widget.LowImportance)
	sec.content = container.NewVBox(sec.name, sec.totals, sec.graph, sec.idle, sec.cards, widget.NewSeparator())
	return sec
}

// updateSection shows one server's snapshot in sec.
func (v *nowPlayingView) updateSection(sec *npSection, sn *app.Snapshot, now time.Time) {
	name := sn.Server
	if sn.Conn.Status != app.Connected {
		name += " — " + sn.Conn.Status.String()
	}
	nameImp := widget.MediumImportance
	if sn.Conn.Status.Problem() {
		nameImp = widget.DangerImportance
	}
	sec.name.set(name, nameImp)
	sample := app.SampleOf(sn, now)
	sec.totals.set(totalsText(sample), widget.MediumImportance)
	sec.graph.set(v.traffic.Samples(sn.Server, now), now)

	seen := map[string]bool{}
	var objs []fyne.CanvasObject
	reshaped := false // a card's lines changed size
	for s := range sn.All() {
		if s.Leaving != "" {
			continue
		}
		c := sec.byKey[s.Key()]
		if c == nil {
			c = newNPCard(s.Key())
			sec.byKey[s.Key()] = c
		}
		seen[s.Key()] = true
		if v.updateCard(c, s) {
			reshaped = true
		}
		objs = append(objs, c.box)
	}
	for k := range sec.byKey {
		if !seen[k] {
			delete(sec.byKey, k)
		}
	}
	setVisible(sec.idle, sec.content, len(objs) == 0)
	if !slices.Equal(sec.cards.Objects, objs) || reshaped {
		sec.cards.Objects = objs
		sec.cards.Refresh() // lays the cards out again, inside too
	}
}

// totalsText is a server's header line: "3 streams · 2 transcodes ·
// 24.1 Mbps (LAN 10.0 Mbps, WAN 14.1 Mbps)".
func totalsText(s app.TrafficSample) string {
	return joinDot(words.Plural(s.Streams, "stream", "streams"), words.Plural(s.Transcodes, "transcode", "transcodes"),
		fmt.Sprintf("%s (LAN %s, WAN %s)", totalRate(s.Kbps()), totalRate(s.LANKbps), totalRate(s.WANKbps)))
}

// totalRate is a sum of bandwidths: "12.3 Mbps", and "0 Mbps" for none
// (bitrateText's "—" says unknown).
func totalRate(kbps int64) string {
	if kbps <= 0 {
		return "0 Mbps"
	}
	return bitrateText(kbps)
}

func newNPCard(key string) *npCard {
	c := &npCard{
		key:      key,
		poster:   canvas.NewImageFromResource(theme.MediaVideoIcon()),
		title:    newLineText(widget.MediumImportance, true, 1.1),
		who:      newLineText(widget.MediumImportance, false, 0),
		bar:      newProgressBar(),
		time:     newLineText(widget.MediumImportance, false, 0),
		decision: newLineText(widget.MediumImportance, true, 0),
		reason:   newLineText(widget.MediumImportance, false, 0),
		net:      newLineText(widget.MediumImportance, false, 0),
	}
	c.poster.FillMode = canvas.ImageFillContain
	c.poster.SetMinSize(posterSize)
	c.time.natural = true
	progress := container.NewBorder(nil, nil, nil, c.time, c.bar)
	text := container.New(layout.NewCustomPaddedVBoxLayout(3), c.title, c.who, progress, c.decision, c.reason, c.net)
	row := container.NewBorder(nil, nil, container.NewVBox(c.poster), nil, text)
	c.box = newCardBox(container.NewPadded(row))
	return c
}

// updateCard shows s in c and fetches its poster when it changed. It
// reports whether the card needs laying out again: the reason line came or
// went, or the time beside the bar changed width.
func (v *nowPlayingView) updateCard(c *npCard, s *app.Session) (reshaped bool) {
	c.title.set(s.Title, widget.MediumImportance)
	c.who.set(joinDot(s.User, playerText(s.Player), stateText(s.State)), widget.MediumImportance)
	c.bar.set(s.Progress())
	timeWidth := c.time.MinSize().Width
	c.time.set(timeLeftText(s), widget.MediumImportance)
	reshaped = c.time.MinSize().Width != timeWidth
	c.decision.set(displayArrows(decisionText(s)), decisionImportance(s))
	reason := reasonText(s)
	c.reason.set(reason, widget.MediumImportance)
	if show := reason != ""; show != c.reason.Visible() {
		if show {
			c.reason.Show()
		} else {
			c.reason.Hide()
		}
		reshaped = true
	}
	c.net.set(joinDot(bitrateText(s.BandwidthKbps), locationText(s)), widget.MediumImportance)
	if s.Thumb != c.thumb {
		c.thumb = s.Thumb
		c.poster.Image = nil
		c.poster.Resource = placeholderPoster(s)
		c.poster.Refresh()
		server, path := s.Server, s.Thumb
		v.fetches = append(v.fetches, func() { v.fetchPoster(c, server, path) })
	}
	return reshaped
}

// decisionImportance colours a decision: transcodes orange, Direct Play
// green, Direct Stream plain.
func decisionImportance(s *app.Session) widget.Importance {
	switch s.Decision {
	case plex.Transcode:
		return widget.WarningImportance
	case plex.DirectPlay:
		return widget.SuccessImportance
	}
	return widget.MediumImportance
}

// reasonText is the decision's reason line: what is converted to what, by
// hardware or not, and how the transcoder keeps up: "video HEVC 4K to
// H.264 1080p (HW), audio copy · throttled · speed 1.4×".
func reasonText(s *app.Session) string {
	reason := strings.TrimPrefix(s.Reason, "Transcode: ") // the decision line says it
	if reason == decisionText(s) {
		reason = "" // "Direct Play" says all
	}
	if s.Decision != plex.Transcode {
		return displayArrows(reason)
	}
	speed := ""
	if s.TranscodeSpeed > 0 {
		speed = fmt.Sprintf("speed %.1f×", s.TranscodeSpeed)
	}
	throttled := ""
	if s.Throttled {
		throttled = "throttled"
	}
	return joinDot(displayArrows(reason), throttled, speed)
}

// timeLeftText is the position and what remains: "0:52:10 / 2:07:00 ·
// 1:14:50 left"; just the position when the length is unknown (live TV).
func timeLeftText(s *app.Session) string {
	if s.DurationMs <= 0 {
		if s.ViewOffsetMs <= 0 {
			return ""
		}
		return clockText(s.ViewOffsetMs)
	}
	return fmt.Sprintf("%s / %s · %s left", clockText(s.ViewOffsetMs), clockText(s.DurationMs), clockText(s.DurationMs-s.ViewOffsetMs))
}

// placeholderPoster stands in until (or when no) poster arrives.
func placeholderPoster(s *app.Session) fyne.Resource {
	if s.Type == "track" {
		return theme.MediaMusicIcon()
	}
	return theme.MediaVideoIcon()
}

// fetchPoster loads path in the background and shows it in c if c still
// wants it then (UI goroutine to start; the fetch and decoding run off it).
func (v *nowPlayingView) fetchPoster(c *npCard, server, path string) {
	if v.thumbs == nil || path == "" {
		return
	}
	u := v.u
	u.bg.Add(1)
	go func() {
		defer u.bg.Done()
		ctx, cancel := context.WithTimeout(u.ctx, actionTimeout)
		defer cancel()
		b, err := v.thumbs.Thumb(ctx, server, path)
		var img image.Image
		if err == nil {
			img, err = decodePoster(b)
		}
		if err != nil {
			return // the placeholder stays
		}
		fyne.Do(func() {
			if c.thumb != path {
				return // the card moved on to another poster
			}
			c.poster.Resource = nil
			c.poster.Image = img
			c.poster.Refresh()
		})
	}()
}

// decodePoster decodes a PNG or JPEG poster, refusing images too large to
// hold (a decompression bomb would otherwise cost gigabytes).
func decodePoster(b []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPosterPixels {
		return nil, errors.New("poster too large")
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	return img, err
}

// cardsLayout flows cards into as many equal columns as fit at minWidth
// each (at least one), rows as tall as their tallest card. Its MinSize
// uses the width of the last layout, as GridWrap does, so a scroll
// container gets the right height.
type cardsLayout struct {
	minWidth float32
	width    float32
}

func (l *cardsLayout) cols(width float32, n int) int {
	pad := theme.Padding()
	c := int((width + pad) / (l.minWidth + pad))
	return max(1, min(c, n))
}

// Layout implements fyne.Layout.
func (l *cardsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l.width = size.Width
	pad := theme.Padding()
	cols := l.cols(size.Width, max(len(objs), 1))
	w := (size.Width - pad*float32(cols-1)) / float32(cols)
	y := float32(0)
	for i := 0; i < len(objs); i += cols {
		row := objs[i:min(i+cols, len(objs))]
		h := float32(0)
		for _, o := range row {
			h = max(h, o.MinSize().Height)
		}
		for j, o := range row {
			o.Move(fyne.NewPos(float32(j)*(w+pad), y))
			o.Resize(fyne.NewSize(w, h))
		}
		y += h + pad
	}
}

// MinSize implements fyne.Layout.
func (l *cardsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) == 0 {
		return fyne.NewSize(0, 0)
	}
	pad := theme.Padding()
	cols := l.cols(l.width, len(objs))
	h := float32(0)
	for i := 0; i < len(objs); i += cols {
		rh := float32(0)
		for _, o := range objs[i:min(i+cols, len(objs))] {
			rh = max(rh, o.MinSize().Height)
		}
		h += rh + pad
	}
	return fyne.NewSize(min(l.minWidth, 320), h-pad)
}

// progressBar is a thin play-position bar: a track and its filled part.
type progressBar struct {
	widget.BaseWidget
	value float64 // 0..1
}

func newProgressBar() *progressBar {
	p := &progressBar{}
	p.ExtendBaseWidget(p)
	return p
}

func (p *progressBar) set(v float64) {
	if p.value == v {
		return
	}
	p.value = v
	p.Refresh()
}

// CreateRenderer implements fyne.Widget.
func (p *progressBar) CreateRenderer() fyne.WidgetRenderer {
	r := &progressRenderer{p: p, track: canvas.NewRectangle(nil), fill: canvas.NewRectangle(nil)}
	r.track.CornerRadius, r.fill.CornerRadius = 3, 3
	r.Refresh()
	return r
}

type progressRenderer struct {
	p           *progressBar
	track, fill *canvas.Rectangle
}

func (r *progressRenderer) Destroy() {}

func (r *progressRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.track, r.fill}
}

func (r *progressRenderer) MinSize() fyne.Size { return fyne.NewSize(60, 6) }

func (r *progressRenderer) Layout(size fyne.Size) {
	h := float32(6)
	y := (size.Height - h) / 2
	r.track.Move(fyne.NewPos(0, y))
	r.track.Resize(fyne.NewSize(size.Width, h))
	r.fill.Move(fyne.NewPos(0, y))
	r.fill.Resize(fyne.NewSize(size.Width*float32(r.p.value), h))
}

func (r *progressRenderer) Refresh() {
	th := r.p.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.track.FillColor = th.Color(theme.ColorNameInputBorder, v)
	r.fill.FillColor = th.Color(theme.ColorNamePrimary, v)
	r.Layout(r.p.Size())
	r.track.Refresh()
	r.fill.Refresh()
}

// cardBox is a card: its content on a rounded background in the theme's
// input background colour (taken again when the theme changes).
type cardBox struct {
	widget.BaseWidget
	content fyne.CanvasObject
}

func newCardBox(content fyne.CanvasObject) *cardBox {
	b := &cardBox{content: content}
	b.ExtendBaseWidget(b)
	return b
}

// CreateRenderer implements fyne.Widget.
func (b *cardBox) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(nil)
	bg.CornerRadius = 6
	r := &cardBoxRenderer{b: b, bg: bg}
	r.Refresh()
	return r
}

type cardBoxRenderer struct {
	b  *cardBox
	bg *canvas.Rectangle
}

func (r *cardBoxRenderer) Destroy() {}

func (r *cardBoxRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.bg, r.b.content}
}

func (r *cardBoxRenderer) MinSize() fyne.Size { return r.b.content.MinSize() }

func (r *cardBoxRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	r.b.content.Resize(size)
}

func (r *cardBoxRenderer) Refresh() {
	r.bg.FillColor = r.b.Theme().Color(theme.ColorNameInputBackground, fyne.CurrentApp().Settings().ThemeVariant())
	r.bg.Refresh()
	r.b.content.Refresh()
}
