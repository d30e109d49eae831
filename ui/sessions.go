package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/internal/words"
)

// sessionsView is the Sessions tab: a filter, the sessions table (or an
// empty state) and the selected session's details with its actions.
type sessionsView struct {
	u       *UI
	all     []app.Session // every live session of the latest state
	rows    []app.Session // all, filtered and sorted: what the table shows
	query   string
	down    map[string]time.Time // the servers that are down: their rows are as last known
	server  string               // the server chosen in the selector; "" for all
	servers []string             // the servers of the latest state, in order

	// The selected session: selected is its Key ("" for none), sel its
	// latest copy, kept after the session ends so the details stay.
	tableSelection[string, app.Session]

	filter    *widget.Entry
	serverSel *widget.Select  // "All servers" and each server; shown with several
	serverBox *fyne.Container // serverSel at a fixed width
	syncing   bool            // serverSel is being set from the state: ignore its OnChanged
	top       *fyne.Container // filter, selector and count
	count     *widget.Label
	grid      *dataTable[app.Session] // the table's columns and sort order
	table     *widget.Table
	empty     *widget.Label
	area      *fyne.Container // table or empty state
	details   *detailsPane
	content   fyne.CanvasObject
}

func newSessionsView(u *UI) *sessionsView {
	v := &sessionsView{u: u}
	v.filter = widget.NewEntry()
	v.filter.SetPlaceHolder("Filter: user, title, player, server, lan/remote, IP, quality, decision (Ctrl+F)")
	v.filter.OnChanged = func(q string) {
		v.query = q
		v.refreshRows()
	}
	v.count = newLabel("", widget.LowImportance)
	v.serverSel = widget.NewSelect([]string{allServers}, func(string) {
		if v.syncing {
			return
		}
		v.server = ""
		if i := v.serverSel.SelectedIndex(); i > 0 {
			v.server = v.serverSel.Options[i]
		}
		v.refreshRows()
	})
	v.serverSel.Selected = allServers
	v.serverBox = container.NewGridWrap(serverSelSize(v.serverSel), v.serverSel)
	v.serverBox.Hide()

	v.grid = newDataTable(func() []app.Session { return v.rows }, shownColumns(sessionColumns, 1),
		func() cellEnv { return cellEnv{down: v.down, loc: v.u.now().Location()} })
	v.grid.dim = func(s *app.Session, env cellEnv) bool { _, down := env.down[s.Server]; return down }
	v.grid.onSort = v.refreshRows
	v.grid.onKey = func(ev *fyne.KeyEvent) bool { return ev.Name == fyne.KeyDelete && u.terminateSelected() }
	v.table = v.grid.build(v.onSelected)

	v.empty = widget.NewLabel("")
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Wrapping = fyne.TextWrapWord
	v.empty.Importance = widget.LowImportance
	v.area = v.grid.stack(container.NewCenter(v.empty))

	v.details = newDetailsPane(u)
	v.tableSelection = tableSelection[string, app.Session]{
		table:    v.table,
		rows:     func() []app.Session { return v.rows },
		keyOf:    (*app.Session).Key,
		onChange: func() { v.details.show(v) },
	}
	split := container.NewVSplit(v.area, v.details.content)
	split.Offset = 0.6

	v.top = container.NewBorder(nil, nil, widget.NewIcon(theme.SearchIcon()), container.NewHBox(v.serverBox, v.count), v.filter)
	v.content = container.NewBorder(v.top, nil, nil, nil, split)
	return v
}

// Bounds of the server selector's width: it fits the longest server name
// within them (longer ones are shortened with an ellipsis).
const (
	serverSelMinWidth = 150
	serverSelMaxWidth = 240
)

// serverSelSize is the server selector's size for its options: wide
// enough for the longest, so the filter beside it does not jump when the
// selection changes.
func serverSelSize(sel *widget.Select) fyne.Size {
	label := sel.MinSize().Width - fyne.MeasureText(sel.PlaceHolder, theme.TextSize(), fyne.TextStyle{}).Width
	w := float32(0)
	for _, o := range sel.Options {
		w = max(w, fyne.MeasureText(o, theme.TextSize(), fyne.TextStyle{}).Width)
	}
	return fyne.NewSize(min(max(w+label, serverSelMinWidth), serverSelMaxWidth), sel.MinSize().Height)
}

// setState shows the sessions of st (UI goroutine).
func (v *sessionsView) setState(st *app.State) {
	v.all = st.Sessions()
	v.down = downServers(st)
	v.grid.setColumns(shownColumns(sessionColumns, len(st.Servers)))
	v.setServers(st)
	v.refreshRows()
}

// setServers offers the servers of st in the selector, shown only with
// several. The choice falls back to all servers when its server is gone
// (or the selector is hidden).
func (v *sessionsView) setServers(st *app.State) {
	names := make([]string, 0, len(st.Servers))
	for _, sn := range st.Servers {
		names = append(names, sn.Server)
	}
	several := len(names) > 1
	v.syncing = true
	defer func() { v.syncing = false }()
	resized := false
	if !slices.Equal(names, v.servers) {
		v.servers = names
		v.serverSel.SetOptions(append([]string{allServers}, names...))
		size := serverSelSize(v.serverSel)
		resized = size != v.serverBox.MinSize()
		v.serverBox.Layout = layout.NewGridWrapLayout(size)
	}
	if v.server != "" && (!several || !slices.Contains(names, v.server)) {
		v.server = ""
	}
	if want := cmp.Or(v.server, allServers); v.serverSel.Selected != want {
		v.serverSel.SetSelected(want)
	}
	if !setVisible(v.serverBox, v.top, several) && resized && several {
		v.top.Refresh() // the selector's new width
	}
}

// refreshRows recomputes the visible rows after a new state, filter or
// sort, keeps the selection on the same session, and refreshes the table.
func (v *sessionsView) refreshRows() {
	// Follow the selected session by key: rows are reordered and reused.
	v.follow(func() {
		v.rows = filterServer(filterSessions(v.all, v.query), v.server)
		sortGrouped(v.rows, v.grid.order, v.servers)
	}, func() []app.Session { return v.all })

	v.updateEmpty()
}

// updateEmpty switches between the table and the empty state, and updates
// the row count beside the filter.
func (v *sessionsView) updateEmpty() {
	switch {
	case len(v.all) == 0 && !v.u.gotState && len(v.u.state.Servers) == 0:
		v.empty.SetText("Connecting…")
	case len(v.all) == 0:
		v.empty.SetText(emptyText(v.u.state))
	case len(v.rows) == 0 && v.server != "" && strings.TrimSpace(v.query) != "":
		v.empty.SetText(fmt.Sprintf("No session on %s matches “%s”.", v.server, v.query))
	case len(v.rows) == 0 && v.server != "":
		v.empty.SetText("Nothing is playing on " + v.server + ".")
	case len(v.rows) == 0:
		v.empty.SetText(fmt.Sprintf("No session matches “%s”.", v.query))
	}
	setVisible(v.table, v.area, len(v.rows) > 0)
	setVisible(v.empty, v.area, len(v.rows) == 0)
	count := ""
	switch {
	case len(v.all) == 0:
	case len(v.rows) == len(v.all):
		count = words.Plural(len(v.all), "session", "sessions")
	default:
		count = fmt.Sprintf("%d of %s", len(v.rows), words.Plural(len(v.all), "session", "sessions"))
	}
	if count != v.count.Text {
		v.count.SetText(count)
		v.top.Refresh() // the count's width changed: lay the filter bar out again
	}
}

// sortBy toggles the sort on column c (header tap, UI goroutine).
func (v *sessionsView) sortBy(c *column[app.Session]) { v.grid.sortBy(c) }

// detailsPane shows everything about the selected session and its actions.
type detailsPane struct {
	heading   *widget.Label
	reason    *widget.Label
	vals      [2]*widget.Label // one line per field of detailFields
	fields    *fyne.Container  // reason and values, hidden without a selection
	scroll    *container.Scroll
	terminate *widget.Button
	termUser  *widget.Button  // "Terminate all of carol’s streams…"
	head      *fyne.Container // the heading and the buttons, laid out again when a label changes
	stop      *widget.Button
	content   fyne.CanvasObject
}

// detailFields name the values of the details pane, in two columns. Each
// column is a label of names beside a multi-line label of values: lines
// of one label sit closer than a form of separate labels, so everything
// fits without scrolling.
var detailFields = [2][]string{
	{"Player", "Player id", "Address", "Session", "Transcode"},
	{"Bandwidth", "Library", "First seen", "State since", "Server"},
}

// detailValues are the values of detailFields for s.
func detailValues(s *app.Session, now time.Time) [2][]string {
	dash := func(v string) string {
		if v == "" {
			return "—"
		}
		return v
	}
	return [2][]string{{
		dash(joinDot(s.Player.Title, playerText(s.Player))),
		dash(s.Player.MachineIdentifier),
		dash(joinDot(locationText(s), relayNote(s))),
		dash(joinDot(labelled("id", s.ID), labelled("key", s.SessionKey))),
		dash(transcodeText(s)),
	}, {
		dash(joinDot(bitrateText(s.BandwidthKbps), labelled("source", mediaBitrate(s)))),
		dash(joinDot(s.Library, s.Type, string(s.Kind))),
		timeAgoText(s.FirstSeen, now),
		dash(joinDot(stateText(s.State), timeAgoText(s.StateSince, now), labelled("leaving:", s.Leaving))),
		dash(s.Server),
	}}
}

func newDetailsPane(u *UI) *detailsPane {
	d := &detailsPane{}
	d.heading = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.heading.Truncation = fyne.TextTruncateEllipsis
	d.reason = widget.NewLabel("")
	d.reason.Wrapping = fyne.TextWrapWord
	d.reason.Selectable = true

	var cols []fyne.CanvasObject
	for i, names := range detailFields {
		keys := widget.NewLabelWithStyle(strings.Join(names, "\n"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		d.vals[i] = widget.NewLabel("")
		d.vals[i].Selectable = true // ids and addresses are for copying
		d.vals[i].Truncation = fyne.TextTruncateEllipsis
		cols = append(cols, container.NewBorder(nil, nil, keys, nil, d.vals[i]))
	}

	d.terminate = &widget.Button{
		Text:       "Terminate…",
		Icon:       theme.MediaStopIcon(),
		Importance: widget.DangerImportance,
	}
	d.terminate.ExtendBaseWidget(d.terminate)
	d.stop = widget.NewButtonWithIcon("Stop transcode", theme.CancelIcon(), nil)
	d.termUser = widget.NewButton("All of the user’s streams…", nil)
	// The buttons read the selection when tapped: rows move between updates.
	d.terminate.OnTapped = func() { u.confirmTerminate(u.sessions.selected) }
	d.termUser.OnTapped = func() { u.confirmTerminateUser(u.sessions.selected) }
	d.stop.OnTapped = func() { u.stopTranscode(u.sessions.selected) }

	buttons := container.NewHBox(d.terminate, d.termUser, d.stop)
	head := container.NewBorder(nil, nil, nil, buttons, d.heading)
	d.head = head
	d.fields = container.NewVBox(d.reason, container.NewGridWithColumns(2, cols...))
	d.scroll = container.NewVScroll(d.fields)
	d.content = container.NewBorder(container.NewVBox(widget.NewSeparator(), head), nil, nil, nil, d.scroll)
	return d
}

// show fills the pane from the view's selection (UI goroutine).
func (d *detailsPane) show(v *sessionsView) {
	if v.selected == "" {
		setText(d.heading, "Select a session to see its details.")
		setVisible(d.fields, d.scroll, false)
		d.terminate.Disable()
		d.termUser.Disable()
		d.stop.Disable()
		return
	}
	setVisible(d.fields, d.scroll, true)
	s := &v.sel
	heading := s.User + " · " + s.Title
	if !v.selLive {
		heading += " (ended)"
	}
	setText(d.heading, heading)
	reason := displayArrows(s.Reason)
	down := v.u.isDown(s.Server)
	if down {
		reason = downReason(s.Server)
	}
	setText(d.reason, reason)
	for i, vals := range detailValues(s, v.u.now()) {
		setText(d.vals[i], strings.Join(vals, "\n"))
	}

	busy := v.u.busy[v.selected] || down
	if label := terminateUserLabel(s.User); d.termUser.Text != label {
		d.termUser.SetText(label)
		d.head.Refresh() // the button's width follows the name
	}
	if v.selLive && !busy {
		d.terminate.Enable()
		d.termUser.Enable()
	} else {
		d.terminate.Disable()
		d.termUser.Disable()
	}
	if v.selLive && !busy && s.TranscodeKey != "" {
		d.stop.Enable()
	} else {
		d.stop.Disable()
	}
}

// setText changes a label's text only when it differs, so frequent
// updates do not reset a selection the user is making to copy it.
func setText(l *widget.Label, text string) {
	if l.Text != text {
		l.SetText(text)
	}
}

// labelled writes "name value", or "" when value is empty.
func labelled(name, value string) string {
	if value == "" {
		return ""
	}
	return name + " " + value
}

func relayNote(s *app.Session) string {
	if s.Relayed && s.Player.Address != "" {
		return "player at " + s.Player.Address
	}
	return ""
}

// mediaBitrate is the source's bitrate, or says it is not known yet (Plex
// lists a transcode's output; the source is read from the library).
func mediaBitrate(s *app.Session) string {
	if s.BitrateKbps <= 0 {
		if s.Transcoding() && !s.SourceKnown {
			return "unknown"
		}
		return ""
	}
	return bitrateText(s.BitrateKbps)
}
