package ui

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/history"
)

// fakeHistory answers queries from records in memory, as history.Read
// does (Filter.Match, oldest first, Limit), and records the calls. A gate
// holds queries whose Kind is gateKind until it is closed.
//
// The test driver runs fyne.Do at once on the calling goroutine, so a
// query's result would be applied while the widget that started it (a
// Select refreshes itself after its OnChanged) is still being updated on
// the test's goroutine: a race that cannot happen in the app, where
// fyne.Do queues. settle holds queries back until the test's widget call
// has returned.
type fakeHistory struct {
	hold     sync.Mutex // held by settle; every Query waits for it
	mu       sync.Mutex
	recs     []history.Record
	skipped  int
	err      error
	filters  []history.Filter
	exported [][]history.Record
	gateKind string
	gate     chan struct{}
}

func (f *fakeHistory) Query(flt history.Filter) (history.Result, error) {
	f.hold.Lock()
	//lint:ignore SA2001 the empty critical section waits for settle's fn to return
	f.hold.Unlock()
	f.mu.Lock()
	f.filters = append(f.filters, flt)
	gate := f.gate
	if flt.Kind != f.gateKind {
		gate = nil
	}
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var res history.Result
	for _, r := range f.recs {
		if flt.Match(r) {
			res.Records = append(res.Records, r)
		}
	}
	if flt.Limit > 0 && len(res.Records) > flt.Limit {
		res.Records = res.Records[len(res.Records)-flt.Limit:]
	}
	res.Skipped, res.Files = f.skipped, 1
	return res, f.err
}

func (f *fakeHistory) WriteCSV(w io.Writer, recs []history.Record) error {
	f.mu.Lock()
	f.exported = append(f.exported, slices.Clone(recs))
	f.mu.Unlock()
	return history.WriteCSV(w, recs)
}

// settle runs fn, which starts queries, holding them back until it
// returns, then waits for them and anything else the UI started.
func (f *fakeHistory) settle(u *UI, fn func()) {
	f.hold.Lock()
	fn()
	f.hold.Unlock()
	u.bg.Wait()
}

func (f *fakeHistory) lastFilter() history.Filter {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.filters[len(f.filters)-1]
}

func (f *fakeHistory) queries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.filters)
}

// fixedRecords is the history of the golden test, oldest first: a manual
// terminate, a rule's dry run, a rule refused for lack of Plex Pass, a
// local kill, a storm found, and a verify.
func fixedRecords() []history.Record {
	at := func(m int) time.Time { return testNow.Add(-time.Duration(m) * time.Minute) }
	return []history.Record{
		{Time: at(300), Kind: history.KindManual, Server: "Demo server", SessionID: "a1b2c3", SessionKey: "14", User: "bob",
			Title: "Severance - S01E03 - In Perpetuity", Player: "Living room (Plex for Roku)", Action: "terminate",
			Message: "Sorry bob, the server owner ended this stream.", Outcome: "done", LatencyMs: 212},
		{Time: at(40), Kind: history.KindRule, Server: "Demo server", SessionID: "7f3c9a", SessionKey: "12", User: "alice",
			Title: "The Matrix", Player: "Alice’s laptop (Plex Web)", Rule: "No remote transcodes", Action: "terminate", DryRun: true,
			Message: "Hi alice, this server does not convert video. In Plex Web: Settings › Quality › Remote streaming › Original, then play again.",
			Outcome: "dry run", LatencyMs: 3.4},
		{Time: at(20), Kind: history.KindRule, Server: "Demo server", SessionID: "7f3c9a", SessionKey: "12", User: "alice",
			Title: "The Matrix", Player: "Alice’s laptop (Plex Web)", Rule: "No remote transcodes", Action: "terminate",
			Message: "Hi alice, this server does not convert video.", Outcome: "Plex Pass required", LatencyMs: 20188,
			Detail: "401 Unauthorized: terminating needs Plex Pass on the server owner's account"},
		{Time: at(12), Kind: history.KindLocal, Server: "Demo server", Title: "The Matrix", Action: "kill", Outcome: "done",
			Detail: "PID 4242 (Plex Transcoder), orphan since 11:50"},
		{Time: at(6), Kind: "diagnostic", Server: "Demo server", User: "bob", Player: "roku-7781", Action: "storm",
			Outcome: "detected", Detail: "Transcode storm: Living room started 52 new transcodes in the last 2 minutes."},
		{Time: at(2), Kind: history.KindRule, Server: "Demo server", SessionKey: "15", User: "carol", Title: "Dune: Part Two",
			Player: "Carol’s iPhone (Plex for iOS)", Rule: "Paused too long", Action: "verify", Outcome: "gone", LatencyMs: 15020},
	}
}

// newHistoryUI builds a UI with the History tab selected (which queries)
// and waits for the result.
func newHistoryUI(t *testing.T, fh *fakeHistory) *UI {
	t.Helper()
	u := newOptsUI(t, newFakeBackend(), Options{TrayHost: true, History: fh})
	u.apply(fixedState())
	fh.settle(u, func() { u.tabs.Select(u.historyTab) })
	return u
}

func TestHistoryGolden(t *testing.T) {
	u := newHistoryUI(t, &fakeHistory{recs: fixedRecords(), skipped: 2})
	u.history.table.Select(widget.TableCellID{Row: 3, Col: 1}) // the refused terminate
	test.AssertRendersToMarkup(t, "history.xml", u.Window().Canvas())
}

func TestHistoryNewestFirst(t *testing.T) {
	fh := &fakeHistory{recs: fixedRecords(), skipped: 2}
	u := newHistoryUI(t, fh)
	v := u.history
	if len(v.recs) != 6 {
		t.Fatalf("%d records shown, want 6", len(v.recs))
	}
	if v.recs[0].Action != "verify" || v.recs[len(v.recs)-1].Kind != history.KindManual {
		t.Errorf("not newest first: %s … %s", v.recs[0].Action, v.recs[len(v.recs)-1].Kind)
	}
	f := fh.lastFilter()
	if want := testNow.Add(-7 * 24 * time.Hour); !f.Since.Equal(want) || f.Limit != historyLimit {
		t.Errorf("default filter %+v, want since %v, limit %d", f, want, historyLimit)
	}
	if !v.note.Visible() || !strings.Contains(v.note.Text, "Skipped 2 damaged lines") {
		t.Errorf("note %q (visible %v), want the skipped lines", v.note.Text, v.note.Visible())
	}
	if got := v.count.Text; got != "6 records" {
		t.Errorf("count %q", got)
	}
}

func TestHistoryFilters(t *testing.T) {
	fh := &fakeHistory{recs: fixedRecords()}
	u := newHistoryUI(t, fh)
	v := u.history

	fh.settle(u, func() { v.kind.SetSelected("Rule") })
	if f := fh.lastFilter(); f.Kind != history.KindRule {
		t.Errorf("filter kind %q, want rule", f.Kind)
	}
	if len(v.recs) != 3 {
		t.Errorf("%d rule records, want 3", len(v.recs))
	}
	for _, r := range v.recs {
		if r.Kind != history.KindRule {
			t.Errorf("a %s record among rule records", r.Kind)
		}
	}

	fh.settle(u, func() { v.outcome.SetSelected("dry run") })
	if f := fh.lastFilter(); f.Kind != history.KindRule || f.Outcome != "dry run" || len(v.recs) != 1 {
		t.Errorf("filter %+v gave %d records, want the one dry run", f, len(v.recs))
	}

	// Each change queries; settle waits for each before the next, as the
	// fake records filters in the order its goroutines run.
	fh.settle(u, func() { v.kind.SetSelected("All kinds") })
	fh.settle(u, func() { v.outcome.SetSelected(allOutcomes) })
	fh.settle(u, func() { v.span.SetSelected("Last hour") })
	if f := fh.lastFilter(); !f.Since.Equal(testNow.Add(-time.Hour)) || f.Kind != "" || f.Outcome != "" || len(v.recs) != 5 {
		t.Errorf("filter %+v gave %d records, want 5 in the last hour", f, len(v.recs))
	}

	// The search waits for typing to pause: fire the delay by hand.
	var delayed []func()
	v.later = func(d time.Duration, fn func()) {
		if d != searchDelay {
			t.Errorf("search delayed by %v, want %v", d, searchDelay)
		}
		delayed = append(delayed, fn)
	}
	search := func(text string) {
		t.Helper()
		delayed = nil
		v.search.SetText(text[:1])
		v.search.SetText(text)
		if len(delayed) != 2 {
			t.Fatalf("%d delayed searches, want one per edit", len(delayed))
		}
		n := fh.queries()
		for _, fn := range delayed {
			fn()
		}
		u.bg.Wait()
		if got := fh.queries(); got != n+1 {
			t.Errorf("%d queries for two edits, want 1 (for the last)", got-n)
		}
	}
	search("roku")
	if f := fh.lastFilter(); f.Text != "roku" || len(v.recs) != 1 || v.recs[0].Action != "storm" {
		t.Errorf("search: filter %+v, %d records", f, len(v.recs))
	}

	search("nothing like this")
	if !v.empty.Visible() || v.empty.Text != "No record matches the filter." || v.table.Visible() {
		t.Errorf("empty state %q (visible %v)", v.empty.Text, v.empty.Visible())
	}
	if !v.export.Disabled() {
		t.Error("Export enabled with nothing to export")
	}

	fh.settle(u, func() { v.server.SetSelected("Demo server") })
	if f := fh.lastFilter(); f.Server != "Demo server" {
		t.Errorf("server filter %q", f.Server)
	}
}

func TestHistoryRefreshOnTab(t *testing.T) {
	fh := &fakeHistory{}
	u := newHistoryUI(t, fh)
	n := fh.queries()
	if n != 1 {
		t.Errorf("%d queries when the tab opened, want 1", n)
	}
	if got := u.history.empty.Text; got != "Nothing recorded in the last 7 days." {
		t.Errorf("empty text %q", got)
	}
	fh.mu.Lock()
	fh.recs = fixedRecords()
	fh.mu.Unlock()
	u.tabs.Select(u.sessionsTab)
	fh.settle(u, func() { u.tabs.Select(u.historyTab) })
	if fh.queries() != n+1 || len(u.history.recs) != 6 {
		t.Errorf("selecting the tab again: %d queries, %d records", fh.queries(), len(u.history.recs))
	}
	test.Tap(findButton(t, u.history.content, "")) // refresh
	u.bg.Wait()
	if fh.queries() != n+2 {
		t.Errorf("Refresh did not query: %d queries", fh.queries())
	}
}

func TestHistoryStaleResultDropped(t *testing.T) {
	fh := &fakeHistory{recs: fixedRecords()}
	u := newHistoryUI(t, fh)
	v := u.history
	fh.mu.Lock()
	fh.gateKind, fh.gate = history.KindRule, make(chan struct{})
	fh.mu.Unlock()
	fh.hold.Lock()
	v.kind.SetSelected("Rule")   // held at the gate
	v.kind.SetSelected("Manual") // answers at once
	fh.hold.Unlock()
	time.Sleep(50 * time.Millisecond) // most likely the newer result lands first; either way it must win
	close(fh.gate)
	u.bg.Wait()
	if len(v.recs) != 1 || v.recs[0].Kind != history.KindManual {
		t.Errorf("shows %d records (%v): the older query's result won", len(v.recs), v.recs)
	}
}

func TestHistorySelectionAndError(t *testing.T) {
	fh := &fakeHistory{recs: fixedRecords()}
	u := newHistoryUI(t, fh)
	v := u.history
	v.table.Select(widget.TableCellID{Row: 3, Col: 0})
	if v.selected == nil || v.selected.Outcome != "Plex Pass required" || !v.fields.Visible() {
		t.Fatalf("selected %+v", v.selected)
	}
	if !strings.Contains(v.detail.Text, "401 Unauthorized") || !strings.Contains(v.vals[1].Text, "20 s") {
		t.Errorf("details: %q / %q", v.detail.Text, v.vals[1].Text)
	}
	// A refresh keeps the selected record.
	v.query()
	u.bg.Wait()
	if v.selected == nil || v.selected.Outcome != "Plex Pass required" {
		t.Error("refresh lost the selection")
	}
	fh.mu.Lock()
	fh.err = errors.New("permission denied")
	fh.mu.Unlock()
	v.query()
	u.bg.Wait()
	if !strings.Contains(v.note.Text, "Could not read the history: permission denied") {
		t.Errorf("note %q", v.note.Text)
	}
}

func TestHistoryExport(t *testing.T) {
	fh := &fakeHistory{recs: fixedRecords()}
	u := newHistoryUI(t, fh)
	v := u.history
	fh.settle(u, func() { v.kind.SetSelected("Rule") })

	path := filepath.Join(t.TempDir(), "history.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.exportTo(f, v.exportRecords()); err != nil {
		t.Fatalf("export: %v", err)
	}
	fh.mu.Lock()
	exported := fh.exported
	fh.mu.Unlock()
	if len(exported) != 1 || len(exported[0]) != 3 || exported[0][0].Time.After(exported[0][2].Time) {
		t.Fatalf("WriteCSV got %d calls, want one with the 3 rule records oldest first", len(exported))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], history.CSVHeader) || rows[1][6] != "The Matrix" || rows[3][9] != "verify" {
		t.Errorf("CSV rows %q", rows)
	}

	if err := v.exportTo(failWriter{}, v.exportRecords()); err == nil || err.Error() != "disk full" {
		t.Errorf("export to a failing file: %v, want disk full", err)
	}
	v.showExportResult(3, "history.csv", nil)
	if got := v.note.Text; got != "Exported 3 records to history.csv." || !v.note.Visible() {
		t.Errorf("export note %q", got)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
func (failWriter) Close() error              { return nil }

func TestHistoryQueryFilter(t *testing.T) {
	tests := []struct {
		name string
		q    historyQuery
		want history.Filter
	}{
		{"all", historyQuery{}, history.Filter{Limit: historyLimit}},
		{"day", historyQuery{span: 24 * time.Hour}, history.Filter{Since: testNow.Add(-24 * time.Hour), Limit: historyLimit}},
		{"everything", historyQuery{text: " bob ", kind: "rule", outcome: "done", server: "Home", span: time.Hour},
			history.Filter{Since: testNow.Add(-time.Hour), Text: "bob", Kind: "rule", Outcome: "done", Server: "Home", Limit: historyLimit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.filter(testNow); got != tt.want {
				t.Errorf("filter(%+v) = %+v, want %+v", tt.q, got, tt.want)
			}
		})
	}
	if got := selectedValue(historyKinds, "Diagnostic"); got != "diagnostic" {
		t.Errorf("Diagnostic kind = %q", got)
	}
}

func TestHistoryTexts(t *testing.T) {
	recs := fixedRecords()
	cells := []struct {
		rec  int
		col  string
		want string
	}{
		{0, "Time", "Mar 14 07:05:00"},
		{0, "Took", "212 ms"},
		{1, "Took", "3.4 ms"},
		{1, "Dry run", "yes"},
		{0, "Dry run", ""},
		{2, "Message / detail", "Hi alice, this server does not convert video. · 401 Unauthorized: terminating needs Plex Pass on the server owner's account"},
		{4, "Kind", "diagnostic"},
	}
	for _, tt := range cells {
		if got := columnNamed(historyColumns, tt.col).text(&recs[tt.rec], cellEnv{loc: time.UTC}); got != tt.want {
			t.Errorf("history cell (record %d, %s) = %q, want %q", tt.rec, tt.col, got, tt.want)
		}
	}
	empties := []struct {
		q    historyQuery
		span string
		want string
	}{
		{historyQuery{}, "All time", "No actions yet. Terminates, stopped transcodes and what the rules do are recorded here."},
		{historyQuery{span: time.Hour}, "Last hour", "Nothing recorded in the last hour."},
		{historyQuery{kind: "rule"}, "All time", "No record matches the filter."},
	}
	for _, tt := range empties {
		if got := historyEmptyText(tt.q, tt.span); got != tt.want {
			t.Errorf("historyEmptyText(%+v) = %q, want %q", tt.q, got, tt.want)
		}
	}
	server := columnNamed(historyColumns, "Server")
	if cols := shownColumns(historyColumns, 1); slices.Contains(cols, server) || len(cols) != len(historyColumns)-1 {
		t.Errorf("one server: %d columns", len(cols))
	}
	if cols := shownColumns(historyColumns, 2); !slices.Contains(cols, server) {
		t.Errorf("two servers: columns lack Server")
	}
	var sum float32
	for _, c := range shownColumns(historyColumns, 1) {
		sum += c.width + 4
	}
	if sum > 1092 {
		t.Errorf("columns %v px wide with one server, more than the window's 1092", sum)
	}
	if historyProblem("done") || !historyProblem("Plex Pass required") {
		t.Error("historyProblem: only failed actions stand out")
	}
}
