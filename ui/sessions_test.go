package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
)

func TestSessionsGolden(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), fixedState())
	test.AssertRendersToMarkup(t, "sessions.xml", u.Window().Canvas())

	u.sessions.table.Select(widget.TableCellID{Row: 0, Col: 1})
	test.AssertRendersToMarkup(t, "sessions_selected.xml", u.Window().Canvas())
}

func TestSessionsEmptyState(t *testing.T) {
	st := fixedState()
	setSessions(st, 0)
	u := newTestUI(t, newFakeBackend(), st)
	if u.sessions.table.Visible() {
		t.Error("table visible with no sessions")
	}
	if got, want := u.sessions.empty.Text, "Nothing is playing on Demo server."; got != want {
		t.Errorf("empty state = %q, want %q", got, want)
	}

	u.apply(fixedState())
	if !u.sessions.table.Visible() || u.sessions.empty.Visible() {
		t.Error("table hidden or empty state shown with sessions")
	}
	u.sessions.filter.SetText("nobody")
	if got, want := u.sessions.empty.Text, "No session matches “nobody”."; got != want {
		t.Errorf("empty state with filter = %q, want %q", got, want)
	}
	if got, want := u.sessions.count.Text, "0 of 3 sessions"; got != want {
		t.Errorf("count = %q, want %q", got, want)
	}
}

func TestTerminateFlow(t *testing.T) {
	b := newFakeBackend()
	clock := &fakeClock{t: testNow}
	a := test.NewTempApp(t)
	u := New(a, b, Options{Now: clock.Now})
	t.Cleanup(func() { u.Stop(); u.bg.Wait() })
	u.Window().Resize(windowSize)
	u.apply(fixedState())
	w := u.Window()

	// Default order: the transcode first.
	u.sessions.table.Select(widget.TableCellID{Row: 0, Col: 3})
	if got := u.sessions.selected; got != "Demo server/12" {
		t.Fatalf("selected %q, want alice's session Demo server/12", got)
	}
	test.Tap(u.sessions.details.terminate)

	overlay := w.Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("Terminate… opened no dialog")
	}
	entry := findMultiLineEntry(t, overlay)
	if want := b.DefaultMessage(aliceSession()); entry.Text != want {
		t.Errorf("dialog message = %q, want the default %q", entry.Text, want)
	}
	edited := entry.Text + " Please switch to Original quality."
	entry.SetText(edited)
	test.Tap(findButton(t, overlay, "Terminate"))
	u.bg.Wait() // the backend call and its report through fyne.Do

	b.mu.Lock()
	calls := b.terminated
	b.mu.Unlock()
	if len(calls) != 1 {
		t.Fatalf("backend got %d terminate calls, want 1", len(calls))
	}
	alice := aliceSession()
	if got := calls[0].Session.Key(); got != alice.Key() {
		t.Errorf("terminated session %q, want %q", got, alice.Key())
	}
	if calls[0].Message != edited {
		t.Errorf("terminate message = %q, want %q", calls[0].Message, edited)
	}
	done := app.Result{Outcome: app.OutcomeDone}.Text()
	if got := u.status.result.Text; !strings.Contains(got, done) || !u.status.result.Visible() {
		t.Errorf("status line = %q (visible %v), want it to contain %q", got, u.status.result.Visible(), done)
	}
	if w.Canvas().Overlays().Top() != nil {
		t.Error("dialog still open after Terminate")
	}

}

func TestTerminateCancel(t *testing.T) {
	b := newFakeBackend()
	u := newTestUI(t, b, fixedState())
	u.sessions.table.Select(widget.TableCellID{Row: 0, Col: 0})
	test.Tap(u.sessions.details.terminate)
	test.Tap(findButton(t, u.Window().Canvas().Overlays().Top(), "Cancel"))
	u.bg.Wait()
	if len(b.terminated) != 0 {
		t.Errorf("Cancel terminated %d sessions", len(b.terminated))
	}
}

func TestStopTranscodeButton(t *testing.T) {
	b := newFakeBackend()
	u := newTestUI(t, b, fixedState())
	d := u.sessions.details
	if !d.terminate.Disabled() || !d.stop.Disabled() {
		t.Error("actions enabled with no selection")
	}

	row := func(user string) int {
		for i, s := range u.sessions.rows {
			if s.User == user {
				return i
			}
		}
		t.Fatalf("no row for %s", user)
		return -1
	}
	u.sessions.table.Select(widget.TableCellID{Row: row("bob"), Col: 0}) // direct play
	if !d.stop.Disabled() {
		t.Error("Stop transcode enabled for a direct play session")
	}
	if d.terminate.Disabled() {
		t.Error("Terminate… disabled for a live session")
	}

	u.sessions.table.Select(widget.TableCellID{Row: row("alice"), Col: 0}) // transcode
	if d.stop.Disabled() {
		t.Fatal("Stop transcode disabled for a transcoding session")
	}
	test.Tap(d.stop)
	u.bg.Wait()
	if len(b.stopped) != 1 || b.stopped[0].TranscodeKey != "tc-91" {
		t.Errorf("stopped %+v, want alice's transcode tc-91", b.stopped)
	}
	if got := u.status.result.Text; !strings.HasPrefix(got, "Stop transcode alice · The Matrix: ") {
		t.Errorf("status line = %q", got)
	}
}

func TestSelectionFollowsSession(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), fixedState())
	u.sessions.table.Select(widget.TableCellID{Row: 0, Col: 0})
	key := u.sessions.selected

	// A new session sorted before it: the selection stays on the same session.
	st := fixedState()
	dave := aliceSession()
	dave.User, dave.SessionKey, dave.ID = "aaron", "20", "ff01"
	setSessions(st, 0, append(sessionsOf(st, 0), dave)...)
	u.apply(st)
	if u.sessions.selected != key || u.sessions.rows[u.sessions.selectedIndex()].Key() != key {
		t.Errorf("selection moved to %q, want %q", u.sessions.selected, key)
	}

	// The session ends: the details stay, marked ended, actions off.
	st = fixedState()
	setSessions(st, 0, sessionsOf(st, 0)[:2]...) // without alice
	u.apply(st)
	d := u.sessions.details
	if !strings.HasSuffix(d.heading.Text, "(ended)") {
		t.Errorf("heading = %q, want it marked (ended)", d.heading.Text)
	}
	if !d.terminate.Disabled() || !d.stop.Disabled() {
		t.Error("actions enabled for an ended session")
	}
}

func TestSortByHeader(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), fixedState())
	users := func() string {
		var out []string
		for _, s := range u.sessions.rows {
			out = append(out, s.User)
		}
		return strings.Join(out, ",")
	}
	if got := users(); got != "alice,bob,carol" {
		t.Errorf("default order %s, want alice (transcode) first", got)
	}
	u.sessions.sortBy(colBandwidth)
	if got := users(); got != "carol,bob,alice" {
		t.Errorf("by bandwidth %s, want carol,bob,alice", got)
	}
	u.sessions.sortBy(colBandwidth)
	if got := users(); got != "alice,bob,carol" {
		t.Errorf("by bandwidth, descending %s, want alice,bob,carol", got)
	}
}

// twoServerState has two servers: Home with alice (a transcode) and bob,
// Cabin with carol and dave (a transcode).
func twoServerState() *app.State {
	home, cabin := fixedState().Servers[0], fixedState().Servers[0]
	home.Server, home.Demo = "Home", false
	cabin.Server, cabin.Demo = "Cabin", false
	dave := aliceSession()
	dave.User, dave.ID, dave.SessionKey, dave.Title = "dave", "d4v3", "40", "Arrival"
	on := func(server string, sessions ...app.Session) []app.Session {
		for i := range sessions {
			sessions[i].Server = server
		}
		return sessions
	}
	home = home.WithSessions(on(home.Server, bobSession(), aliceSession())...)
	cabin = cabin.WithSessions(on(cabin.Server, carolSession(), dave)...)
	return &app.State{Servers: []*app.Snapshot{home, cabin}, Time: testNow}
}

// rowUsers lists the users of the table's rows, in order.
func rowUsers(v *sessionsView) string {
	var out []string
	for _, s := range v.rows {
		out = append(out, s.User)
	}
	return strings.Join(out, ",")
}

func TestServerSelector(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), fixedState())
	v := u.sessions
	if v.serverBox.Visible() {
		t.Error("server selector shown with one server")
	}

	u.apply(twoServerState())
	if !v.serverBox.Visible() {
		t.Fatal("server selector hidden with two servers")
	}
	if got, want := v.serverSel.Options, []string{allServers, "Home", "Cabin"}; !slices.Equal(got, want) {
		t.Errorf("selector options %q, want %q", got, want)
	}
	if v.serverSel.Selected != allServers {
		t.Errorf("selector shows %q, want %q", v.serverSel.Selected, allServers)
	}
	// Grouped by server in the state's order, transcodes first within each.
	if got, want := rowUsers(v), "alice,bob,dave,carol"; got != want {
		t.Errorf("default order %s, want %s", got, want)
	}

	steps := []struct {
		server, query string
		users, count  string
	}{
		{"Cabin", "", "dave,carol", "2 of 4 sessions"},
		{"Home", "", "alice,bob", "2 of 4 sessions"},
		{"Home", "Roku", "bob", "1 of 4 sessions"},
		{"Cabin", "Roku", "", "0 of 4 sessions"},
		{allServers, "Roku", "bob", "1 of 4 sessions"},
		{allServers, "", "alice,bob,dave,carol", "4 sessions"},
	}
	for _, st := range steps {
		v.serverSel.SetSelected(st.server)
		v.filter.SetText(st.query)
		if got := rowUsers(v); got != st.users {
			t.Errorf("%s, filter %q: rows %s, want %s", st.server, st.query, got, st.users)
		}
		if got := v.count.Text; got != st.count {
			t.Errorf("%s, filter %q: count %q, want %q", st.server, st.query, got, st.count)
		}
	}
}

func TestServerSelectorEmptyText(t *testing.T) {
	st := twoServerState()
	setSessions(st, 1)
	u := newTestUI(t, newFakeBackend(), st)
	v := u.sessions
	v.serverSel.SetSelected("Cabin")
	if got, want := v.empty.Text, "Nothing is playing on Cabin."; got != want || !v.empty.Visible() {
		t.Errorf("empty state %q (visible %v), want %q", got, v.empty.Visible(), want)
	}
	v.serverSel.SetSelected("Home")
	v.filter.SetText("nobody")
	if got, want := v.empty.Text, "No session on Home matches “nobody”."; got != want {
		t.Errorf("empty state %q, want %q", got, want)
	}
}

func TestServerSelectorFallsBack(t *testing.T) {
	tests := []struct {
		name    string
		next    func() *app.State
		visible bool
		users   string
	}{
		{"server gone, two left", func() *app.State {
			st := twoServerState()
			st.Servers[1].Server = "Den" // Cabin is gone, Den came
			ss := sessionsOf(st, 1)
			for i := range ss {
				ss[i].Server = "Den"
			}
			setSessions(st, 1, ss...)
			return st
		}, true, "alice,bob,dave,carol"},
		{"only the other server left", func() *app.State {
			st := twoServerState()
			st.Servers = st.Servers[:1]
			return st
		}, false, "alice,bob"},
		{"only the chosen server left", func() *app.State {
			st := twoServerState()
			st.Servers = st.Servers[1:]
			return st
		}, false, "dave,carol"},
		{"no server left", func() *app.State { return &app.State{} }, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newTestUI(t, newFakeBackend(), twoServerState())
			v := u.sessions
			v.serverSel.SetSelected("Cabin")
			if got := rowUsers(v); got != "dave,carol" {
				t.Fatalf("Cabin selected: rows %s, want dave,carol", got)
			}
			u.apply(tt.next())
			if v.serverSel.Selected != allServers || v.server != "" {
				t.Errorf("selector shows %q (filter %q), want %q", v.serverSel.Selected, v.server, allServers)
			}
			if v.serverBox.Visible() != tt.visible {
				t.Errorf("selector visible %v, want %v", v.serverBox.Visible(), tt.visible)
			}
			if got := rowUsers(v); got != tt.users {
				t.Errorf("rows %s, want %s", got, tt.users)
			}
		})
	}
}

func TestServerSelectorKeepsChoice(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), twoServerState())
	v := u.sessions
	v.serverSel.SetSelected("Cabin")
	st := twoServerState()
	erin := carolSession()
	erin.Server, erin.User, erin.SessionKey, erin.ID = "Cabin", "erin", "41", "e41"
	setSessions(st, 1, append(sessionsOf(st, 1), erin)...)
	u.apply(st)
	if v.serverSel.Selected != "Cabin" {
		t.Errorf("selector shows %q after an update, want Cabin kept", v.serverSel.Selected)
	}
	if got, want := rowUsers(v), "dave,carol,erin"; got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
}

func TestServerSelectorHidesSelection(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), twoServerState())
	v := u.sessions
	v.table.Select(widget.TableCellID{Row: 0, Col: 0}) // alice on Home
	if v.selected != "Home/12" {
		t.Fatalf("selected %q, want Home/12", v.selected)
	}
	v.serverSel.SetSelected("Cabin")
	if idx := v.selectedIndex(); idx != -1 {
		t.Errorf("alice's row %d while Cabin is shown, want -1", idx)
	}
	// Still live, only filtered out: the details stay, actions on.
	if h := v.details.heading.Text; h != "alice · The Matrix" {
		t.Errorf("details heading %q, want alice's session (not ended)", h)
	}
	if v.details.terminate.Disabled() {
		t.Error("Terminate… disabled for a live session filtered out of the table")
	}
	v.serverSel.SetSelected(allServers)
	if idx := v.selectedIndex(); idx != 0 {
		t.Errorf("alice's row %d with all servers shown, want 0", idx)
	}
}

func TestSortByHeaderSeveralServers(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), twoServerState())
	v := u.sessions
	steps := []struct {
		col  *column[app.Session]
		want string
	}{
		// Across servers; ties by user.
		{colBandwidth, "carol,bob,alice,dave"},
		{colBandwidth, "alice,dave,bob,carol"},
		{colServer, "carol,dave,alice,bob"},
		{colUser, "alice,bob,carol,dave"},
	}
	for _, st := range steps {
		v.sortBy(st.col)
		if got := rowUsers(v); got != st.want {
			t.Errorf("after a tap on %s (order %+v): %s, want %s", st.col.title, v.grid.order, got, st.want)
		}
	}
	if got, want := v.grid.cols[len(v.grid.cols)-1], colServer; got != want {
		t.Errorf("last column %v, want Server", got)
	}
	// The Server column fits the default window: no scrolling to see it.
	header := findButton(t, v.table, "Server")
	d := fyne.CurrentApp().Driver()
	right := d.AbsolutePositionForObject(header).X + header.Size().Width
	if tableRight := d.AbsolutePositionForObject(v.table).X + v.table.Size().Width; right > tableRight {
		t.Errorf("Server header ends at x=%v, beyond the table's right edge at %v", right, tableRight)
	}
}
