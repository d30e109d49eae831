package ui

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/rules"
)

// carolOnTV is carol's second stream, on another server.
func carolOnTV() app.Session {
	s := carolSession()
	s.Server, s.ID, s.SessionKey, s.Title = "Cabin", "f00d", "31", "Arrival"
	s.Player.Title, s.Player.MachineIdentifier = "Carol’s TV", "tv-carol-9"
	return s
}

// labelsIn is the text of every label in o.
func labelsIn(o fyne.CanvasObject) string {
	var b strings.Builder
	for _, obj := range test.LaidOutObjects(o) {
		if l, ok := obj.(*widget.Label); ok {
			b.WriteString(l.Text + "\n")
		}
	}
	return b.String()
}

// Terminate all of carol's streams: from the details pane and the tray,
// the dialog lists every stream of hers, Esc closes it without acting, and
// Terminate all calls TerminateUser (the prefilled message meaning each
// player's default, an edited one going to all).
func TestTerminateUserDialog(t *testing.T) {
	b := newFakeBackend()
	b.others = []app.Session{carolOnTV()}
	u := newTestUI(t, b, fixedState())
	carol := carolSession()
	c := u.Window().Canvas()

	for i, s := range u.sessions.rows {
		if s.User == "carol" {
			u.sessions.table.Select(widget.TableCellID{Row: i, Col: 0})
		}
	}
	d := u.sessions.details
	if got, want := d.termUser.Text, "Terminate all of carol’s streams…"; got != want || d.termUser.Disabled() {
		t.Fatalf("details button %q (disabled %v), want %q enabled", got, d.termUser.Disabled(), want)
	}
	test.Tap(d.termUser)
	top := c.Overlays().Top()
	if top == nil {
		t.Fatal("the button opened no dialog")
	}
	text := labelsIn(top)
	for _, want := range []string{"Stop 2 streams of carol?", "Dune: Part Two · Carol’s iPhone · Demo server", "Arrival · Carol’s TV · Cabin"} {
		if !strings.Contains(text, want) {
			t.Errorf("dialog does not say %q:\n%s", want, text)
		}
	}
	c.Focused().(*escEntry).TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if c.Overlays().Top() != nil {
		t.Fatal("Esc did not close the dialog")
	}

	tests := []struct {
		name    string
		edit    func(e *widget.Entry)
		message string
	}{
		{"default per player", func(*widget.Entry) {}, ""},
		{"edited message for all", func(e *widget.Entry) { e.SetText("Bedtime, carol.") }, "Bedtime, carol."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.mu.Lock()
			b.userCalls = nil
			b.mu.Unlock()
			u.trayAction(trayItem{Action: trayTerminateUser, Key: carol.Key()})
			top := c.Overlays().Top()
			if top == nil {
				t.Fatal("the tray item opened no dialog")
			}
			tt.edit(findMultiLineEntry(t, top))
			test.Tap(findButton(t, top, "Terminate all"))
			u.bg.Wait()
			b.mu.Lock()
			calls := b.userCalls
			b.mu.Unlock()
			if len(calls) != 1 || calls[0].Session.Key() != carol.Key() || calls[0].Message != tt.message {
				t.Fatalf("TerminateUser calls %+v, want one for carol with message %q", calls, tt.message)
			}
			if got, want := u.status.result.Text, "Terminate all of carol’s streams: 2 streams stopped"; got != want {
				t.Errorf("status %q, want %q", got, want)
			}
		})
	}
}

// The tray offers it under every live session, and not for a server
// that is down.
func TestTrayTerminateUserItem(t *testing.T) {
	carol := carolSession()
	items := trayMenu(stateOf(app.Connected, carol), false)
	want := trayItem{Label: "Terminate all of carol’s streams…", Action: trayTerminateUser, Key: carol.Key()}
	var found bool
	for _, it := range items {
		for _, ch := range it.Children {
			if reflect.DeepEqual(ch, want) {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("tray menu %+v has no %+v", items, want)
	}
}

func TestTerminateUserResult(t *testing.T) {
	ok, failed := app.Result{Outcome: app.OutcomeDone}, app.Result{Outcome: app.OutcomeFailed, Err: errors.New("refused")}
	carol, tv := carolSession(), carolOnTV()
	tests := []struct {
		name string
		res  []app.SessionResult
		want string
		imp  widget.Importance
	}{
		{"none", nil, "nothing was playing any more", widget.WarningImportance},
		{"all", []app.SessionResult{{Session: carol, Result: ok}, {Session: tv, Result: ok}}, "2 streams stopped", widget.SuccessImportance},
		{"one failed", []app.SessionResult{{Session: carol, Result: ok}, {Session: tv, Result: failed}}, "1 of 2 stopped; “Arrival”: " + failed.Text(), widget.DangerImportance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, imp := terminateUserResult(tt.res)
			if got != tt.want || imp != tt.imp {
				t.Errorf("terminateUserResult = %q, %v; want %q, %v", got, imp, tt.want, tt.imp)
			}
		})
	}
}

// The Rules tab lists the cool-downs with Lift, and the quota usage; Lift
// calls LiftBlock and the row goes.
func TestBlocksListAndLift(t *testing.T) {
	until := time.Date(2026, 3, 14, 21, 30, 0, 0, time.Local)
	fr := &fakeRules{file: twoRules(),
		blocks: []rules.Block{{User: "carol", Rule: "No 4K", Scope: rules.CoolDownAll, Until: until}},
		usage: []rules.QuotaUsage{{User: "alice", Rule: "Two hours", Used: rules.Duration(70 * time.Minute),
			Limit: rules.Duration(2 * time.Hour), Resets: until.Add(3 * time.Hour)}}}
	u, _ := newRulesUI(t, fr, fixedState())
	p := u.rules.preview.blocks
	if !p.content.Visible() {
		t.Fatal("cool-downs section hidden with a block")
	}
	text := labelsIn(p.content)
	for _, want := range []string{
		"Cool-down: carol · until " + untilText(until, testNow) + " · rule “No 4K” · all new streams",
		"Quota: alice · 1h10m of 2h played · rule “Two hours” · resets " + untilText(until.Add(3*time.Hour), testNow),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("section does not say %q:\n%s", want, text)
		}
	}
	test.Tap(findButton(t, p.content, "Lift"))
	u.bg.Wait()
	fr.mu.Lock()
	lifted := fr.lifted
	fr.mu.Unlock()
	if !reflect.DeepEqual(lifted, []string{"carol"}) {
		t.Errorf("LiftBlock calls %q, want carol", lifted)
	}
	if got := labelsIn(p.content); strings.Contains(got, "carol") {
		t.Errorf("carol still listed after Lift:\n%s", got)
	}
	if got := u.status.result.Text; !strings.Contains(got, "Lifted carol’s cool-down") {
		t.Errorf("status %q", got)
	}

	// A new block shows with the next state (the door), not by polling.
	fr.mu.Lock()
	fr.blocks = []rules.Block{{User: "bob", Rule: "No 4K", Scope: rules.CoolDownRule, Until: until}}
	fr.mu.Unlock()
	u.apply(fixedState())
	if got := labelsIn(p.content); !strings.Contains(got, "Cool-down: bob") || !strings.Contains(got, "new streams in the rule’s scope") {
		t.Errorf("new block not shown after a state:\n%s", got)
	}

	// Nothing to show: the section goes.
	fr.mu.Lock()
	fr.blocks, fr.usage = nil, nil
	fr.mu.Unlock()
	u.apply(fixedState())
	if p.content.Visible() {
		t.Error("section shown with no block and no usage")
	}
}

func TestUntilText(t *testing.T) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.Local)
	tests := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 14, 21, 30, 0, 0, time.Local), "21:30"},
		{time.Date(2026, 3, 16, 0, 0, 0, 0, time.Local), "Mon 00:00"},
	}
	for _, tt := range tests {
		if got := untilText(tt.at, now); got != tt.want {
			t.Errorf("untilText(%v) = %q, want %q", tt.at, got, tt.want)
		}
	}
}

// fieldWidget is the widget of field key in the editor (inside its error
// box).
func fieldWidget(t *testing.T, e *ruleEditor, key string) fyne.CanvasObject {
	t.Helper()
	box, ok := e.errBox[key]
	if !ok {
		t.Fatalf("the editor has no field %q", key)
	}
	return box.Objects[0]
}

// The editor edits what issue 16 added: the terminateUser action, the
// cool-down and its scope, the quota's parameters and the device lists;
// each reaches the draft, is saved, and shows again when the rule is
// edited anew.
func TestEditorNewFields(t *testing.T) {
	fr := &fakeRules{file: rules.File{Version: rules.Version}}
	u, _ := newRulesUI(t, fr, fixedState())
	v := u.rules
	addKind(t, v, rules.KindQuota)
	e := v.editor

	fieldWidget(t, e, "action").(*widget.Select).SetSelected("Terminate all of the user's streams")
	fieldWidget(t, e, "coolDown").(*widget.Entry).SetText("45m")
	fieldWidget(t, e, "coolDownScope").(*widget.Select).SetSelected("only new streams in the rule's scope")
	fieldWidget(t, e, "quota").(*widget.Entry).SetText("3h")
	fieldWidget(t, e, "period").(*widget.Select).SetSelected("week (from Monday 00:00)")
	fieldWidget(t, e, "warnBefore").(*widget.Entry).SetText("10m")
	for _, obj := range test.LaidOutObjects(e.content) {
		if c, ok := obj.(*widget.Check); ok && c.Text == "Only transcodes" {
			test.Tap(c)
		}
	}
	devices := func(key string) *widget.Entry {
		return fieldWidget(t, e, key).(*fyne.Container).Objects[0].(*widget.Entry)
	}
	devices("scope.devices").SetText("roku-7781, web-alice-01")
	devices("exempt.devices").SetText("tv-carol-9")

	want := v.drafts[0].rule
	want.Action, want.CoolDown, want.CoolDownScope = rules.ActionTerminateUser, rules.Duration(45*time.Minute), rules.CoolDownRule
	want.Quota, want.Period, want.WarnBefore, want.OnlyTranscodes = rules.Duration(3*time.Hour), rules.PeriodWeek, rules.Duration(10*time.Minute), true
	want.Scope.Devices, want.Exempt.Devices = []string{"roku-7781", "web-alice-01"}, []string{"tv-carol-9"}
	got := v.drafts[0].rule
	if got.Action != rules.ActionTerminateUser || got.CoolDown != want.CoolDown || got.CoolDownScope != rules.CoolDownRule ||
		got.Quota != want.Quota || got.Period != rules.PeriodWeek || got.WarnBefore != want.WarnBefore || !got.OnlyTranscodes ||
		!reflect.DeepEqual(got.Scope.Devices, want.Scope.Devices) || !reflect.DeepEqual(got.Exempt.Devices, want.Exempt.Devices) {
		t.Fatalf("draft %+v\nwant %+v", got, want)
	}

	test.Tap(v.save)
	u.bg.Wait()
	sets := fr.saved()
	if len(sets) != 1 || !reflect.DeepEqual(sets[0].Rules[0], got) {
		t.Fatalf("saved %+v, want the draft %+v", sets, got)
	}

	// Edited anew, the editor shows what the rule holds.
	e = newRuleEditor(v, v.drafts[0])
	checks := []struct{ key, got, want string }{
		{"action", fieldWidget(t, e, "action").(*widget.Select).Selected, "Terminate all of the user's streams"},
		{"coolDown", fieldWidget(t, e, "coolDown").(*widget.Entry).Text, "45m"},
		{"coolDownScope", fieldWidget(t, e, "coolDownScope").(*widget.Select).Selected, "only new streams in the rule's scope"},
		{"quota", fieldWidget(t, e, "quota").(*widget.Entry).Text, "3h"},
		{"period", fieldWidget(t, e, "period").(*widget.Select).Selected, "week (from Monday 00:00)"},
		{"warnBefore", fieldWidget(t, e, "warnBefore").(*widget.Entry).Text, "10m"},
		{"scope.devices", fieldWidget(t, e, "scope.devices").(*fyne.Container).Objects[0].(*widget.Entry).Text, "roku-7781, web-alice-01"},
		{"exempt.devices", fieldWidget(t, e, "exempt.devices").(*fyne.Container).Objects[0].(*widget.Entry).Text, "tv-carol-9"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s shows %q, want %q", c.key, c.got, c.want)
		}
	}
}

// "Pick a playing device…" lists the live players and appends the chosen
// machineIdentifier to the list (once).
func TestDevicePicker(t *testing.T) {
	fr := &fakeRules{file: rules.File{Version: rules.Version}}
	u, _ := newRulesUI(t, fr, fixedState())
	v := u.rules
	addKind(t, v, rules.KindTranscode)
	e := v.editor
	box := fieldWidget(t, e, "scope.devices").(*fyne.Container)
	entry := box.Objects[0].(*widget.Entry)
	entry.SetText("web-alice-01")
	c := u.Window().Canvas()

	pick := func(id string) {
		t.Helper()
		test.Tap(findButton(t, box, "Pick a playing device…"))
		top := c.Overlays().Top()
		if top == nil {
			t.Fatal("no picker dialog")
		}
		if got := labelsIn(top); !strings.Contains(got, "Living room (Plex for Roku) · bob on Demo server — roku-7781") {
			t.Errorf("picker does not list bob's Roku:\n%s", got)
		}
		var list *widget.List
		for _, obj := range test.LaidOutObjects(top) {
			if l, ok := obj.(*widget.List); ok {
				list = l
			}
		}
		if list == nil {
			t.Fatal("no list in the picker")
		}
		for i, p := range rules.LivePlayers(u.state) {
			if p.MachineIdentifier == id {
				list.Select(i)
			}
		}
		test.Tap(findButton(t, top, "Add"))
	}
	pick("roku-7781")
	pick("roku-7781") // already there: not twice
	if got, want := entry.Text, "web-alice-01, roku-7781"; got != want {
		t.Errorf("devices %q, want %q", got, want)
	}
	if got, want := v.drafts[0].rule.Scope.Devices, []string{"web-alice-01", "roku-7781"}; !reflect.DeepEqual(got, want) {
		t.Errorf("draft devices %q, want %q", got, want)
	}
}

// Pausing from Settings shows the window's paused strip at once, and
// resuming hides it (not only with the next state).
func TestSettingsPauseShowsStrip(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), fixedState())
	u.tabs.Select(u.settingsTab)
	for _, want := range []bool{true, false} {
		test.Tap(u.settings.paused)
		if got := u.pausedBar.Visible(); got != want {
			t.Errorf("paused %v from Settings: strip shown %v, want %v", u.b.RulesPaused(), got, want)
		}
	}
}

// At 800×600 the preview's notes (rules paused, a rule left out) sit
// above the table's header, not over it.
func TestPreviewNoteAboveTable(t *testing.T) {
	f := twoRules()
	f.Rules = append(f.Rules, f.Rules[1]) // two rules of one name left out: two more notes
	u, _ := newRulesUI(t, &fakeRules{file: f}, fixedState())
	u.Window().Resize(fyne.NewSize(800, 600))
	v := u.rules
	test.Tap(v.paused)
	p := v.preview
	if !p.note.Visible() || !strings.Contains(p.note.Text, "Rules are paused") {
		t.Fatalf("note %q (shown %v), want the paused note", p.note.Text, p.note.Visible())
	}
	if !p.table.Visible() {
		t.Fatal("the preview table is hidden: alice's remote transcode should be listed")
	}
	d := fyne.CurrentApp().Driver()
	note, table := d.AbsolutePositionForObject(p.note), d.AbsolutePositionForObject(p.table)
	if bottom := note.Y + p.note.Size().Height; bottom > table.Y+0.5 || p.note.Size().Height < p.note.MinSize().Height-0.5 {
		t.Errorf("note from y=%v to %v (height %v, needs %v), table from y=%v: they overlap", note.Y, bottom, p.note.Size().Height, p.note.MinSize().Height, table.Y)
	}
}
