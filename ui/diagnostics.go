package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/diag"
	"github.com/plexwarden/plexwarden/internal/words"
)

// DiagBackend answers the Diagnostics tab; *diag.Detector implements it.
// Its methods must be quick and safe to call on the UI goroutine (the
// detector's are: a mutex and a copy).
type DiagBackend interface {
	// Players returns every tracked player id, most recently active first.
	Players() []diag.PlayerSummary
	// Timeline returns the recorded history of one player id, oldest first.
	Timeline(server, playerID string) []diag.TimelineEntry
	// Active returns the collisions and storms in force now.
	Active() []diag.Finding
}

// diagSignal is what PostDiag hands over: there is no value, only "look
// again".
var diagSignal struct{}

// PostDiag tells the UI that the diagnostics changed (new findings, new
// timeline entries). It may be called from any goroutine and never blocks;
// signals are coalesced and the Diagnostics tab pulls from its DiagBackend
// on the UI goroutine at most ten times a second.
func (u *UI) PostDiag() { u.diagDoor.post(&diagSignal) }

// applyDiag pulls the diagnostics afresh (UI goroutine; tests call it).
func (u *UI) applyDiag() {
	if u.diag != nil {
		u.diag.refresh()
	}
}

// diagEmptyText is shown while no player has been seen.
const diagEmptyText = "No collisions or storms seen. Plex Warden watches for players sharing one client identifier " +
	"and for clients that restart transcodes over and over."

// playerKey names one player id on one server.
type playerKey struct{ server, id string }

func keyOf(p *diag.PlayerSummary) playerKey { return playerKey{p.Server, p.PlayerID} }

// timelineColumns are the timeline table's columns, in display order.
var timelineColumns = []*column[diag.TimelineEntry]{
	{title: "Time", width: 70, text: func(e *diag.TimelineEntry, _ cellEnv) string { return e.Time.Format("15:04:05") }},
	{
		title: "Event", width: 104, text: func(e *diag.TimelineEntry, _ cellEnv) string { return eventText(e.Event) },
		warn: func(e *diag.TimelineEntry) bool { return e.Event == diag.EntryCollision || e.Event == diag.EntryStorm },
	},
	{title: "Title", width: 150, text: func(e *diag.TimelineEntry, _ cellEnv) string { return displayArrows(e.Title) }},
	{title: "Player", width: 150, text: func(e *diag.TimelineEntry, _ cellEnv) string { return productText(e) }},
	{title: "User", width: 70, text: func(e *diag.TimelineEntry, _ cellEnv) string { return e.User }},
	{title: "Note", width: 300, text: func(e *diag.TimelineEntry, _ cellEnv) string { return displayArrows(e.Note) }},
}

// diagView is the Diagnostics tab: active findings in a coloured banner,
// the player ids seen, and the selected one's timeline.
type diagView struct {
	u *UI
	b DiagBackend

	findings  []diag.Finding
	bannerKey string // what the banner shows, to rebuild it only on change
	players   []diag.PlayerSummary
	selected  playerKey
	hasSel    bool
	listIndex int                  // the list row selected, -1 for none
	timeline  []diag.TimelineEntry // the selected player's, newest first
	entry     diag.TimelineEntry   // the selected timeline entry
	hasEntry  bool

	banner  *fyne.Container
	scroll  *container.Scroll // the banner
	list    *widget.List
	tlHead  *widget.Label
	table   *widget.Table
	detail  *widget.Label
	tlEmpty *widget.Label
	tlArea  *fyne.Container
	right   *fyne.Container // the timeline pane: heading, table, detail
	empty   *widget.Label
	main    *container.Split
	content *fyne.Container
}

func newDiagView(u *UI, b DiagBackend) *diagView {
	v := &diagView{u: u, b: b, listIndex: -1}
	v.banner = container.NewVBox()
	v.scroll = container.NewVScroll(v.banner)
	v.scroll.Hide()

	v.list = &widget.List{
		Length:     func() int { return len(v.players) },
		CreateItem: newPlayerItem,
		UpdateItem: v.updatePlayer,
		OnSelected: v.onPlayerSelected,
	}
	v.list.ExtendBaseWidget(v.list)

	v.tlHead = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.tlHead.Truncation = fyne.TextTruncateEllipsis
	grid := newDataTable(func() []diag.TimelineEntry { return v.timeline }, timelineColumns, nil)
	grid.boldHeader = true
	v.table = grid.build(v.onEntrySelected)
	v.tlEmpty = newLabel("", widget.LowImportance)
	v.tlEmpty.Alignment = fyne.TextAlignCenter
	v.tlEmpty.Wrapping = fyne.TextWrapWord
	v.tlArea = grid.stack(container.NewCenter(v.tlEmpty))
	v.detail = widget.NewLabel("")
	v.detail.Wrapping = fyne.TextWrapWord
	v.detail.Selectable = true // keys and ids are for copying
	v.detail.Hide()
	v.right = container.NewBorder(v.tlHead, v.detail, nil, nil, v.tlArea)

	players := container.NewHSplit(v.list, v.right)
	players.Offset = 0.36
	v.main = container.NewVSplit(v.scroll, players)
	v.main.Offset = 0.45

	v.empty = newLabel(diagEmptyText, widget.LowImportance)
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Wrapping = fyne.TextWrapWord
	v.content = container.NewStack(v.main, container.NewPadded(container.NewCenter(v.empty)))
	v.refresh()
	return v
}

// refresh pulls findings, players and the selected timeline from the
// backend and shows them (UI goroutine).
func (v *diagView) refresh() {
	v.findings = v.b.Active()
	v.players = v.b.Players()
	v.showFindings()
	v.u.setDiagCount(len(v.findings))

	// Keep the selection on the same player id; with none, select the
	// first flagged one, whose timeline holds the evidence.
	idx := -1
	for i := range v.players {
		if v.hasSel && keyOf(&v.players[i]) == v.selected {
			idx = i
			break
		}
	}
	if idx < 0 {
		v.hasSel = false
		idx = slices.IndexFunc(v.players, func(p diag.PlayerSummary) bool { return p.Collision || p.Storming })
	}
	v.list.Refresh()
	switch {
	case idx < 0 && v.listIndex >= 0:
		v.listIndex = -1
		v.list.UnselectAll()
	case idx >= 0 && idx != v.listIndex:
		v.list.Select(idx) // calls onPlayerSelected
	}
	if idx >= 0 {
		v.selected, v.hasSel = keyOf(&v.players[idx]), true
	}
	v.loadTimeline()

	empty := len(v.players) == 0 && len(v.findings) == 0
	setVisible(v.main, v.content, !empty)
	setVisible(v.empty, v.content, empty)
}

// setDiagCount shows how many findings are active in the Diagnostics
// tab's title, "Diagnostics (2)", so a collision is seen from any tab (UI
// goroutine).
func (u *UI) setDiagCount(n int) {
	if u.diagTab == nil || u.tabs == nil {
		return // still being built
	}
	text := "Diagnostics"
	if n > 0 {
		text = fmt.Sprintf("Diagnostics (%d)", n)
	}
	if u.diagTab.Text != text {
		u.diagTab.Text = text
		u.tabs.Refresh()
	}
}

// showFindings rebuilds the banner when the findings changed.
func (v *diagView) showFindings() {
	var key strings.Builder
	for _, f := range v.findings {
		fmt.Fprintf(&key, "%s\x00%s\x00", f.ID, f.Summary)
	}
	if key.String() == v.bannerKey {
		return
	}
	v.bannerKey = key.String()
	v.banner.RemoveAll()
	for _, f := range v.findings {
		v.banner.Add(newFindingBox(f))
	}
	setVisible(v.scroll, v.main, len(v.findings) > 0)
	v.main.Refresh()
}

// newFindingBox shows one finding in plain words: what happened, then what
// to do. Collisions take the warning colour, storms the error colour. One
// rich text holds it all: its paragraphs sit closer than separate labels,
// which matters when two findings share the banner.
func newFindingBox(f diag.Finding) fyne.CanvasObject {
	var icon fyne.Resource = theme.NewWarningThemedResource(theme.WarningIcon())
	colour := theme.ColorNameWarning
	if f.Kind == diag.KindStorm {
		icon, colour = theme.NewErrorThemedResource(theme.ErrorIcon()), theme.ColorNameError
	}
	para := widget.RichTextStyleParagraph
	title := para
	title.ColorName, title.TextStyle = colour, fyne.TextStyle{Bold: true}
	text := widget.NewRichText(
		&widget.TextSegment{Style: title, Text: f.Title()},
		&widget.TextSegment{Style: para, Text: displayArrows(f.Summary)},
		&widget.TextSegment{Style: widget.RichTextStyleStrong, Text: "What to do: "},
		&widget.TextSegment{Style: widget.RichTextStyleInline, Text: displayArrows(f.Remedy)},
	)
	text.Wrapping = fyne.TextWrapWord
	bg := canvas.NewRectangle(withAlpha(theme.Color(colour), 0x30))
	bg.CornerRadius = theme.InputRadiusSize()
	return container.NewStack(bg, container.NewBorder(nil, nil,
		container.NewPadded(container.NewVBox(widget.NewIcon(icon))), nil, text))
}

// newPlayerItem is the template of a player row: two lines of one rich
// text (they sit closer than two labels would) and the flags.
func newPlayerItem() fyne.CanvasObject {
	lines := widget.NewRichText(
		&widget.TextSegment{Style: widget.RichTextStyle{ColorName: theme.ColorNameForeground,
			SizeName: theme.SizeNameText, TextStyle: fyne.TextStyle{Bold: true}}},
		&widget.TextSegment{Style: widget.RichTextStyle{ColorName: theme.ColorNameDisabled, SizeName: theme.SizeNameText}},
	)
	lines.Truncation = fyne.TextTruncateEllipsis
	flags := widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	return container.NewBorder(nil, nil, nil, flags, lines)
}

func (v *diagView) updatePlayer(id widget.ListItemID, o fyne.CanvasObject) {
	c := o.(*fyne.Container)
	lines, flags := c.Objects[0].(*widget.RichText), c.Objects[1].(*widget.Label)
	var title, detail, flag string
	imp := widget.MediumImportance
	if id >= 0 && id < len(v.players) {
		p := &v.players[id]
		title, detail = playerTitle(p), playerDetail(p)
		flag, imp = playerFlags(p)
	}
	t, d := lines.Segments[0].(*widget.TextSegment), lines.Segments[1].(*widget.TextSegment)
	if t.Text != title || d.Text != detail {
		t.Text, d.Text = title, detail
		lines.Refresh()
	}
	if flags.Importance != imp {
		flags.Importance = imp
		flags.Refresh()
	}
	setText(flags, flag)
}

// playerTitle is "Den · Plex Web + Plexamp (Chrome) · alice": the device
// name, what it reported itself as and who used it.
func playerTitle(p *diag.PlayerSummary) string {
	name := p.Title
	if name == "" {
		name = "id " + shortPlayerID(p.PlayerID)
	}
	what := strings.Join(p.Products, " + ")
	if dev := strings.Join(p.Devices, ", "); dev != "" {
		if what == "" {
			what = dev
		} else {
			what += " (" + dev + ")"
		}
	}
	return joinDot(name, what, strings.Join(p.Users, ", "))
}

// playerDetail is "Home · id web-alice-01 · 1 live · recent: 5 starts, 3
// transcodes".
func playerDetail(p *diag.PlayerSummary) string {
	live := "not playing"
	if p.Live > 0 {
		live = fmt.Sprintf("%d live", p.Live)
	}
	var recent []string
	if p.Starts > 0 {
		recent = append(recent, words.Plural(p.Starts, "start", "starts"))
	}
	if p.Transcodes > 0 {
		recent = append(recent, words.Plural(p.Transcodes, "transcode", "transcodes"))
	}
	if p.Ends > 0 {
		recent = append(recent, words.Plural(p.Ends, "end", "ends"))
	}
	r := ""
	if len(recent) > 0 {
		r = "recent: " + strings.Join(recent, ", ")
	}
	return joinDot(p.Server, "id "+shortPlayerID(p.PlayerID), live, r)
}

// playerFlags is the flag column of a player row: "storm" in the error
// colour beats "collision" in the warning colour.
func playerFlags(p *diag.PlayerSummary) (string, widget.Importance) {
	switch {
	case p.Storming && p.Collision:
		return "storm, collision", widget.DangerImportance
	case p.Storming:
		return "storm", widget.DangerImportance
	case p.Collision:
		return "collision", widget.WarningImportance
	}
	return "", widget.MediumImportance
}

// shortPlayerID shortens long player ids (python-plexapi's are UUIDs).
func shortPlayerID(id string) string { return truncate(id, 24) }

func (v *diagView) onPlayerSelected(id widget.ListItemID) {
	if id < 0 || id >= len(v.players) {
		return
	}
	v.listIndex = id
	k := keyOf(&v.players[id])
	if v.hasSel && k == v.selected {
		return
	}
	v.selected, v.hasSel, v.hasEntry = k, true, false
	v.loadTimeline()
}

// loadTimeline pulls the selected player's timeline, newest first, and
// keeps the selected entry.
func (v *diagView) loadTimeline() {
	if !v.hasSel {
		v.timeline = nil
		setText(v.tlHead, "Select a player to see its timeline.")
	} else {
		v.timeline = slices.Clone(v.b.Timeline(v.selected.server, v.selected.id)) // the backend's to keep
		slices.Reverse(v.timeline)
		name := v.selected.id
		if i := slices.IndexFunc(v.players, func(p diag.PlayerSummary) bool { return keyOf(&p) == v.selected }); i >= 0 && v.players[i].Title != "" {
			name = v.players[i].Title
		}
		setText(v.tlHead, "Timeline of "+name+" on "+v.selected.server+", newest first")
	}
	v.table.Refresh()
	row := -1
	if v.hasEntry {
		row = slices.IndexFunc(v.timeline, func(e diag.TimelineEntry) bool { return sameEntry(e, v.entry) })
	}
	if row < 0 {
		v.hasEntry = false
		v.table.UnselectAll()
	} else {
		v.table.Select(widget.TableCellID{Row: row, Col: 0})
	}
	v.showEntry()

	if len(v.timeline) == 0 && v.hasSel {
		setText(v.tlEmpty, "Nothing recorded for this player in the last hour.")
	}
	setVisible(v.table, v.tlArea, len(v.timeline) > 0)
	setVisible(v.tlEmpty, v.tlArea, len(v.timeline) == 0 && v.hasSel)
}

// sameEntry tells whether a and b are the same timeline entry across pulls.
func sameEntry(a, b diag.TimelineEntry) bool {
	return a.Time.Equal(b.Time) && a.Event == b.Event && a.SessionKey == b.SessionKey && a.TranscodeKey == b.TranscodeKey
}

func (v *diagView) onEntrySelected(id widget.TableCellID) {
	if id.Row < 0 || id.Row >= len(v.timeline) {
		return
	}
	v.entry, v.hasEntry = v.timeline[id.Row], true
	v.showEntry()
}

// showEntry shows the selected timeline entry in full under the table.
func (v *diagView) showEntry() {
	text := ""
	if v.hasEntry {
		text = entryDetail(&v.entry)
	}
	setText(v.detail, text)
	setVisible(v.detail, v.right, text != "")
}

// entryDetail is everything about one timeline entry, for the line under
// the table: "12:03:04 · collision · Inception (movie) · session 12 ·
// alice · Plex Web on Chrome", then the note.
func entryDetail(e *diag.TimelineEntry) string {
	title := e.Title
	if title != "" && e.Type != "" {
		title += " (" + e.Type + ")"
	}
	line := joinDot(e.Time.Format("15:04:05"), eventText(e.Event), title,
		labelled("session", e.SessionKey), labelled("transcode", e.TranscodeKey), e.User, productText(e))
	if e.Note != "" {
		line += "\n" + e.Note
	}
	return displayArrows(line)
}

// eventText names a timeline event.
func eventText(k diag.EntryKind) string {
	switch k {
	case diag.EntryStart:
		return "start"
	case diag.EntryEnd:
		return "end"
	case diag.EntryTranscode:
		return "transcode"
	case diag.EntryTranscodeEnd:
		return "transcode ended"
	case diag.EntryCollision:
		return "collision"
	case diag.EntryStorm:
		return "storm"
	case diag.EntryCalm:
		return "calm"
	}
	return string(k)
}

// productText is "Plex Web on Chrome", or whichever of the two is known.
func productText(e *diag.TimelineEntry) string {
	switch {
	case e.Product != "" && e.Device != "":
		return e.Product + " on " + e.Device
	case e.Product != "":
		return e.Product
	}
	return e.Device
}
