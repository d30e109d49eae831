package ui

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/history"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/internal/words"
)

// HistoryBackend reads the action history for the History tab; the
// desktop app implements it over its history directory, tests fake it.
// Both methods may take a while (the files can be megabytes) and are
// called off the UI goroutine.
type HistoryBackend interface {
	// Query returns the records matching f, oldest first.
	Query(f history.Filter) (history.Result, error)
	// WriteCSV writes recs as CSV (history.WriteCSV).
	WriteCSV(w io.Writer, recs []history.Record) error
}

// historyLimit bounds the records a query shows: the newest are kept.
const historyLimit = 5000

// searchDelay lets the admin finish typing before the files are read.
const searchDelay = 300 * time.Millisecond

// choice is one option of a filter select: the label shown and the value
// it stands for.
type choice struct{ label, value string }

// historyKinds are the kind filter's options.
var historyKinds = []choice{
	{"All kinds", ""},
	{"Manual", history.KindManual},
	{"Rule", history.KindRule},
	{"Local", history.KindLocal},
	{"Diagnostic", "diagnostic"},
}

// historySpans are the time range filter's options.
var historySpans = []struct {
	label string
	span  time.Duration // 0: all time
}{
	{"Last hour", time.Hour},
	{"Last 24 hours", 24 * time.Hour},
	{"Last 7 days", 7 * 24 * time.Hour},
	{"All time", 0},
}

// defaultSpan is the time range the tab opens with.
const defaultSpan = "Last 7 days"

// knownOutcomes are the outcomes the outcome filter always offers (from
// app, rules, the local clean-up and diagnostics); outcomes seen in the
// results are added.
var knownOutcomes = []string{
	string(app.OutcomeDone), string(app.OutcomeGone), rules.OutcomeGone, string(app.OutcomeDryRun),
	rules.OutcomeLogged, rules.OutcomeNotified, string(app.OutcomePlexPass), string(app.OutcomeUnauthorized),
	string(app.OutcomeForbidden), string(app.OutcomeNoID), string(app.OutcomeFailed), rules.OutcomeZombie,
	rules.OutcomeNotTranscoding, "detected",
}

const (
	allOutcomes = "All outcomes"
	allServers  = "All servers"
)

// historyQuery is what the filter bar asks for.
type historyQuery struct {
	text, kind, outcome, server string
	span                        time.Duration // 0: all time
}

// filter is the history.Filter of q at now, bounded to historyLimit.
func (q historyQuery) filter(now time.Time) history.Filter {
	f := history.Filter{Text: strings.TrimSpace(q.text), Kind: q.kind, Outcome: q.outcome, Server: q.server, Limit: historyLimit}
	if q.span > 0 {
		f.Since = now.Add(-q.span)
	}
	return f
}

// historyColumns are the history table's columns, in display order. The
// widths fit the default window (1092 px inside, 4 px between columns) with
// one server, when the Server column is left out; with several, the message
// column runs past the edge (the details show it whole). Times are shown in
// the cell environment's location.
var historyColumns = []*column[history.Record]{
	{title: "Time", width: 124, text: func(r *history.Record, env cellEnv) string { return r.Time.In(env.loc).Format("Jan 02 15:04:05") }},
	{title: "Kind", width: 82, text: func(r *history.Record, env cellEnv) string { return r.Kind }},
	{title: "Server", width: 90, text: func(r *history.Record, env cellEnv) string { return r.Server }, optional: true},
	{title: "User", width: 62, text: func(r *history.Record, env cellEnv) string { return r.User }},
	{title: "Title", width: 106, text: func(r *history.Record, env cellEnv) string { return r.Title }},
	{title: "Player", width: 100, text: func(r *history.Record, env cellEnv) string { return r.Player }},
	{title: "Rule", width: 100, text: func(r *history.Record, env cellEnv) string { return r.Rule }},
	{title: "Action", width: 86, text: func(r *history.Record, env cellEnv) string { return r.Action }},
	{title: "Dry run", width: 58, text: func(r *history.Record, _ cellEnv) string { return yesIf(r.DryRun) }},
	{title: "Outcome", width: 96, text: func(r *history.Record, env cellEnv) string { return r.Outcome }, warn: func(r *history.Record) bool { return historyProblem(r.Outcome) }},
	{title: "Took", width: 62, text: func(r *history.Record, env cellEnv) string { return words.Millis(r.LatencyMs) }},
	{title: "Message / detail", width: 164, text: func(r *history.Record, env cellEnv) string {
		return displayArrows(strings.Join(strings.Fields(joinDot(r.Message, r.Detail)), " "))
	}},
}

// yesIf is "yes" when b, else "".
func yesIf(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// historyDetailFields name the values of the details, in two columns.
var historyDetailFields = [2][]string{
	{"Time", "Kind", "Server", "User", "Title", "Player", "Rule"},
	{"Action", "Dry run", "Outcome", "Latency", "Session id", "Session key", ""},
}

// historyDetailValues are the values of historyDetailFields for r.
func historyDetailValues(r *history.Record, loc *time.Location) [2][]string {
	dash := func(v string) string {
		if v == "" {
			return "—"
		}
		return v
	}
	dry := "no"
	if r.DryRun {
		dry = "yes: nothing was sent"
	}
	latency := "—"
	if r.LatencyMs > 0 {
		latency = words.Millis(r.LatencyMs)
	}
	return [2][]string{{
		r.Time.In(loc).Format("2006-01-02 15:04:05.000 MST"),
		dash(r.Kind), dash(r.Server), dash(r.User), dash(r.Title), dash(r.Player), dash(r.Rule),
	}, {
		dash(r.Action), dry, dash(r.Outcome), latency, dash(r.SessionID), dash(r.SessionKey), "",
	}}
}

// historyView is the History tab: a filter bar, the matching records
// newest first, and every field of the selected one.
type historyView struct {
	u *UI
	b HistoryBackend
	// later runs fn on the UI goroutine after d (UI.later); tests replace
	// it to fire the search delay themselves, as the tray's tests do.
	later func(d time.Duration, fn func())

	recs     []history.Record // the latest result, newest first
	skipped  int
	err      error
	seq      int // queries started; results of older ones are dropped
	loading  bool
	textGen  int // edits of the search text; a delayed query runs only for the latest
	selected *history.Record
	servers  []string                   // offered in the server filter, besides "All servers"
	grid     *dataTable[history.Record] // the table's columns
	outcomes []string

	search  *widget.Entry
	kind    *widget.Select
	outcome *widget.Select
	server  *widget.Select
	span    *widget.Select
	export  *widget.Button
	count   *widget.Label
	note    *widget.Label
	table   *widget.Table
	empty   *widget.Label
	area    *fyne.Container
	top     *fyne.Container

	heading *widget.Label
	vals    [2]*widget.Label
	message *widget.Label
	detail  *widget.Label
	fields  *fyne.Container
	scroll  *container.Scroll
	content fyne.CanvasObject
}

func newHistoryView(u *UI, b HistoryBackend) *historyView {
	v := &historyView{u: u, b: b, later: u.later, outcomes: slices.Clone(knownOutcomes)}
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search user, title, player, rule, message")
	v.search.OnChanged = func(string) {
		v.textGen++
		gen := v.textGen
		v.later(searchDelay, func() {
			if gen == v.textGen {
				v.query()
			}
		})
	}
	v.search.OnSubmitted = func(string) {
		v.textGen++
		v.query()
	}
	labels := func(cs []choice) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.label
		}
		return out
	}
	v.kind = widget.NewSelect(labels(historyKinds), func(string) { v.query() })
	v.kind.Selected = historyKinds[0].label
	v.outcome = widget.NewSelect(append([]string{allOutcomes}, v.outcomes...), func(string) { v.query() })
	v.outcome.Selected = allOutcomes
	v.server = widget.NewSelect(nil, func(string) { v.query() })
	v.server.Selected = allServers
	v.updateServers(nil)
	var spans []string
	for _, s := range historySpans {
		spans = append(spans, s.label)
	}
	v.span = widget.NewSelect(spans, func(string) { v.query() })
	v.span.Selected = defaultSpan

	refresh := widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), v.query)
	v.export = widget.NewButtonWithIcon("Export CSV…", theme.DocumentSaveIcon(), v.showExport)
	filters := container.NewHBox(v.kind, v.outcome, v.server, v.span, refresh, v.export)
	bar := container.NewBorder(nil, nil, widget.NewIcon(theme.SearchIcon()), filters, v.search)

	v.count = newLabel("", widget.LowImportance)
	v.note = newLabel("", widget.WarningImportance)
	v.note.Wrapping = fyne.TextWrapWord
	v.note.Hide()
	v.top = container.NewVBox(bar, v.note)

	v.grid = newDataTable(func() []history.Record { return v.recs }, shownColumns(historyColumns, len(v.servers)),
		func() cellEnv { return cellEnv{loc: v.u.now().Location()} })
	v.table = v.grid.build(v.onSelected)
	v.empty = newLabel("", widget.LowImportance)
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Wrapping = fyne.TextWrapWord
	v.area = v.grid.stack(container.NewCenter(v.empty))

	v.heading = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.heading.Truncation = fyne.TextTruncateEllipsis
	var cols []fyne.CanvasObject
	for i, names := range historyDetailFields {
		keys := widget.NewLabelWithStyle(strings.Join(names, "\n"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		v.vals[i] = widget.NewLabel("")
		v.vals[i].Selectable = true
		v.vals[i].Truncation = fyne.TextTruncateEllipsis
		cols = append(cols, container.NewBorder(nil, nil, keys, nil, v.vals[i]))
	}
	// Message and detail can be long: full width, wrapped, names aligned.
	long := container.New(layout.NewFormLayout())
	for _, l := range []**widget.Label{&v.message, &v.detail} {
		*l = widget.NewLabel("")
		(*l).Selectable = true
		(*l).Wrapping = fyne.TextWrapWord
	}
	long.Add(widget.NewLabelWithStyle("Message", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	long.Add(v.message)
	long.Add(widget.NewLabelWithStyle("Detail", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	long.Add(v.detail)
	v.fields = container.NewVBox(container.NewGridWithColumns(2, cols...), long)
	v.scroll = container.NewVScroll(v.fields)
	head := container.NewBorder(nil, nil, nil, v.count, v.heading)
	details := container.NewBorder(container.NewVBox(widget.NewSeparator(), head), nil, nil, nil, v.scroll)

	split := container.NewVSplit(v.area, details)
	split.Offset = 0.5
	v.content = container.NewBorder(v.top, nil, nil, nil, split)
	v.showDetails()
	v.showResult()
	return v
}

// selectedValue is the value behind a select's label.
func selectedValue(cs []choice, label string) string {
	for _, c := range cs {
		if c.label == label {
			return c.value
		}
	}
	return ""
}

// currentQuery reads the filter bar.
func (v *historyView) currentQuery() historyQuery {
	q := historyQuery{text: v.search.Text, kind: selectedValue(historyKinds, v.kind.Selected)}
	if v.outcome.Selected != allOutcomes {
		q.outcome = v.outcome.Selected
	}
	if v.server.Selected != allServers {
		q.server = v.server.Selected
	}
	for _, s := range historySpans {
		if s.label == v.span.Selected {
			q.span = s.span
		}
	}
	return q
}

// query reads the history with the current filter off the UI goroutine;
// the newest query's result is shown.
func (v *historyView) query() {
	f := v.currentQuery().filter(v.u.now())
	v.seq++
	seq := v.seq
	v.loading = true
	v.showResult()
	v.u.background(0, func(context.Context) func() {
		res, err := v.b.Query(f)
		return func() {
			if seq != v.seq {
				return // a newer query is on its way
			}
			v.loading = false
			v.setResult(res, err)
		}
	})
}

// setResult shows a query's records, newest first, keeping the selected
// record when it is still there.
func (v *historyView) setResult(res history.Result, err error) {
	v.err = err
	v.skipped = res.Skipped
	v.recs = slices.Clone(res.Records)
	slices.Reverse(v.recs)
	v.learn()
	v.table.Refresh()
	idx := -1
	if v.selected != nil {
		idx = slices.Index(v.recs, *v.selected)
	}
	if idx < 0 {
		v.selected = nil
		v.table.UnselectAll()
	} else {
		v.table.Select(widget.TableCellID{Row: idx, Col: 0})
	}
	v.showDetails()
	v.showResult()
}

// learn adds servers and outcomes seen in the records to the filters.
func (v *historyView) learn() {
	var servers []string
	for _, r := range v.recs {
		if r.Server != "" {
			servers = append(servers, r.Server)
		}
		if r.Outcome != "" && !slices.Contains(v.outcomes, r.Outcome) {
			v.outcomes = append(v.outcomes, r.Outcome)
			v.outcome.SetOptions(append([]string{allOutcomes}, v.outcomes...))
		}
	}
	v.updateServers(servers)
}

// updateServers offers the configured servers, those of the latest state
// and seen, in the server filter.
func (v *historyView) updateServers(seen []string) {
	names := slices.Clone(v.servers)
	add := func(n string) {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, s := range v.u.b.Config().Servers {
		add(s.Name)
	}
	for _, sn := range v.u.state.Servers {
		add(sn.Server)
	}
	for _, n := range seen {
		add(n)
	}
	if v.server.Options != nil && slices.Equal(names, v.servers) {
		return
	}
	v.servers = names
	v.server.SetOptions(append([]string{allServers}, names...))
	v.setColumns()
}

// setColumns shows the Server column once there are several servers.
func (v *historyView) setColumns() {
	if v.grid != nil && v.grid.setColumns(shownColumns(historyColumns, len(v.servers))) {
		v.table.Refresh()
	}
}

// showResult updates the count, the notes and the empty state.
func (v *historyView) showResult() {
	var notes []string
	if v.err != nil {
		notes = append(notes, "Could not read the history: "+v.err.Error())
	}
	if v.skipped > 0 {
		notes = append(notes, fmt.Sprintf("Skipped %s (a crash can leave the last line torn).",
			words.Plural(v.skipped, "damaged line", "damaged lines")))
	}
	if len(v.recs) >= historyLimit {
		notes = append(notes, fmt.Sprintf("Showing the newest %d records: narrow the filter to see older ones.", historyLimit))
	}
	v.note.Importance = widget.WarningImportance
	setText(v.note, strings.Join(notes, " "))
	setVisible(v.note, v.top, len(notes) > 0)
	v.note.Refresh()

	switch {
	case v.loading && len(v.recs) == 0:
		setText(v.count, "Reading…")
	default:
		setText(v.count, words.Plural(len(v.recs), "record", "records"))
	}
	if v.loading {
		setText(v.empty, "Reading the history…")
	} else {
		setText(v.empty, historyEmptyText(v.currentQuery(), v.span.Selected))
	}
	if len(v.recs) == 0 {
		v.export.Disable()
	} else {
		v.export.Enable()
	}
	setVisible(v.table, v.area, len(v.recs) > 0)
	setVisible(v.empty, v.area, len(v.recs) == 0)
}

// historyEmptyText is shown instead of the table when no record matches
// q; spanLabel names its time range ("Last 7 days").
func historyEmptyText(q historyQuery, spanLabel string) string {
	if q.text != "" || q.kind != "" || q.outcome != "" || q.server != "" {
		return "No record matches the filter."
	}
	if q.span > 0 {
		return "Nothing recorded in the " + strings.ToLower(spanLabel) + "."
	}
	return "No actions yet. Terminates, stopped transcodes and what the rules do are recorded here."
}

// historyProblem reports outcomes that need the admin's eye: the action
// did not happen.
func historyProblem(outcome string) bool {
	switch outcome {
	case string(app.OutcomePlexPass), string(app.OutcomeUnauthorized), string(app.OutcomeForbidden),
		string(app.OutcomeFailed), rules.OutcomeZombie, "permission denied":
		return true
	}
	return false
}

func (v *historyView) onSelected(id widget.TableCellID) {
	if id.Row < 0 || id.Row >= len(v.recs) {
		return
	}
	r := v.recs[id.Row]
	v.selected = &r
	v.showDetails()
}

// showDetails shows every field of the selected record.
func (v *historyView) showDetails() {
	if v.selected == nil {
		setText(v.heading, "Select a record to see all of it.")
		setVisible(v.fields, v.scroll, false)
		return
	}
	r := v.selected
	setVisible(v.fields, v.scroll, true)
	setText(v.heading, joinDot(r.Action, r.User, r.Title, r.Outcome))
	for i, vals := range historyDetailValues(r, v.u.now().Location()) {
		setText(v.vals[i], strings.Join(vals, "\n"))
	}
	dash := func(s string) string {
		if s == "" {
			return "—"
		}
		return displayArrows(s)
	}
	setText(v.message, dash(r.Message))
	setText(v.detail, dash(r.Detail))
}

// showExport asks where to save the shown records as CSV.
func (v *historyView) showExport() {
	recs := v.exportRecords()
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			v.showExportResult(0, "", err)
			return
		}
		if w == nil {
			return // cancelled
		}
		name := w.URI().Name()
		v.u.background(0, func(context.Context) func() {
			err := v.exportTo(w, recs)
			return func() { v.showExportResult(len(recs), name, err) }
		})
	}, v.u.win)
	d.SetFileName("plexwarden-history-" + v.u.now().Format("2006-01-02") + ".csv")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv"}))
	d.Show()
	// After Show: FileDialog.Resize before it dereferences the dialog's
	// window, which Show creates (fyne v2.8.1 dialog/file.go).
	d.Resize(fyne.NewSize(800, 520))
}

// exportRecords are the records shown, oldest first as in the files.
func (v *historyView) exportRecords() []history.Record {
	recs := slices.Clone(v.recs)
	slices.Reverse(recs)
	return recs
}

// exportTo writes recs as CSV to w and closes it (any goroutine: it
// touches no widget).
func (v *historyView) exportTo(w io.WriteCloser, recs []history.Record) error {
	err := v.b.WriteCSV(w, recs)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// showExportResult says how the export went.
func (v *historyView) showExportResult(n int, name string, err error) {
	if err != nil {
		dialog.ShowError(fmt.Errorf("could not export the history: %w", err), v.u.win)
		return
	}
	v.note.Importance = widget.SuccessImportance
	setText(v.note, fmt.Sprintf("Exported %s to %s.", words.Plural(n, "record", "records"), name))
	setVisible(v.note, v.top, true)
	v.note.Refresh()
}
