package ui

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/internal/words"
)

// fakeRules keeps a rules file in memory and records what the UI saves.
// SetRules runs on the UI's goroutines, hence the mutex.
type fakeRules struct {
	mu      sync.Mutex
	file    rules.File
	fileErr error
	setErr  error
	sets    []rules.File
	preview []rules.PreviewItem
}

func (f *fakeRules) Rules() rules.File {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.file
}

func (f *fakeRules) SetRules(file rules.File) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets = append(f.sets, file)
	if f.setErr != nil {
		return f.setErr
	}
	if err := file.Validate(); err != nil {
		return err
	}
	f.file, f.fileErr = file, nil
	return nil
}

func (f *fakeRules) RulesError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fileErr
}

func (f *fakeRules) Preview(*app.State) []rules.PreviewItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.preview
}

// Paused and SetPaused are never called: the view uses Backend's switch.
func (f *fakeRules) Paused() bool   { panic("the UI reads the pause switch from Backend") }
func (f *fakeRules) SetPaused(bool) { panic("the UI sets the pause switch through Backend") }

func (f *fakeRules) saved() []rules.File {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sets)
}

func (f *fakeRules) setError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setErr = err
}

// twoRules is the rules file of the golden test: remote video transcodes
// (with a Roku message and exemptions), and long pauses.
func twoRules() rules.File {
	return rules.File{Version: rules.Version, Rules: []rules.Rule{
		{
			Name: "No remote transcodes", Kind: rules.KindTranscode, Enabled: true, Action: rules.ActionTerminate,
			Grace: rules.Duration(20 * time.Second), OnlyRemote: true,
			Message:  "Hi {user}, this server does not convert video. {quality}",
			Messages: map[string]string{"roku": "Hi {user}! {title} was being converted for your Roku. {quality}"},
			Exempt:   rules.Exempt{Users: []string{"owner"}, LAN: true},
		},
		{
			Name: "Paused too long", Kind: rules.KindPaused, Enabled: true, Action: rules.ActionStopTranscode,
			PausedFor: rules.Duration(30 * time.Minute),
		},
	}}
}

// newRulesUI builds a UI with the Rules tab selected and st applied.
func newRulesUI(t *testing.T, fr *fakeRules, st *app.State) (*UI, *fakeBackend) {
	t.Helper()
	b := newFakeBackend()
	u := newOptsUI(t, b, Options{TrayHost: true, Rules: fr})
	if st != nil {
		u.apply(st)
	}
	u.tabs.Select(u.rulesTab)
	return u, b
}

func TestRulesGolden(t *testing.T) {
	u, _ := newRulesUI(t, &fakeRules{file: twoRules()}, fixedState())
	if u.rules.sel != 0 || u.rules.editor == nil {
		t.Fatalf("selection %d, want the first rule in the editor", u.rules.sel)
	}
	test.AssertRendersToMarkup(t, "rules.xml", u.Window().Canvas())
}

func TestRulesTabOnlyWithBackend(t *testing.T) {
	u := newOptsUI(t, newFakeBackend(), Options{TrayHost: true})
	if u.rulesTab != nil || u.rules != nil || u.historyTab != nil || u.history != nil {
		t.Error("Rules or History tab built without its backend")
	}
	for _, it := range u.tabs.Items {
		if it.Text == "Rules" || it.Text == "History" {
			t.Errorf("tab %q shown without its backend", it.Text)
		}
	}
	u = newOptsUI(t, newFakeBackend(), Options{TrayHost: true, Rules: &fakeRules{}, History: &fakeHistory{}})
	var names []string
	for _, it := range u.tabs.Items {
		names = append(names, it.Text)
	}
	if want := []string{"Now Playing", "Sessions", "Rules", "History", "Settings"}; !slices.Equal(names, want) {
		t.Errorf("tabs %q, want %q", names, want)
	}
}

// addKind adds a rule of kind k through the Add rule… menu.
func addKind(t *testing.T, v *rulesView, k rules.Kind) {
	t.Helper()
	for _, it := range v.addMenu().Items {
		if it.Label == kindName(k) {
			it.Action()
			return
		}
	}
	t.Fatalf("no %q in the Add rule menu", kindName(k))
}

// sessionOption returns the preview select's option containing part.
func sessionOption(t *testing.T, e *ruleEditor, part string) string {
	t.Helper()
	for _, o := range e.sessions.Options {
		if strings.Contains(o, part) {
			return o
		}
	}
	t.Fatalf("no session %q among %q", part, e.sessions.Options)
	return ""
}

func TestRulesEditAndSave(t *testing.T) {
	fr := &fakeRules{file: rules.File{Version: rules.Version}}
	u, _ := newRulesUI(t, fr, fixedState())
	v := u.rules
	if v.save.Disabled() == false {
		t.Error("Save enabled before any edit")
	}

	addKind(t, v, rules.KindTranscode)
	if len(v.drafts) != 1 || v.sel != 0 || v.editor == nil {
		t.Fatalf("after Add: %d rules, selection %d, editor %v", len(v.drafts), v.sel, v.editor != nil)
	}
	e := v.editor
	if got, want := e.name.Text, "Video transcode"; got != want {
		t.Errorf("new rule named %q, want %q", got, want)
	}
	e.grace.SetText("30s")
	const msg = "Hi {user}, {title} needs converting on {product}. {quality}"
	e.message.SetText(msg)

	// The live preview renders the typed message for the chosen session.
	e.sessions.SetSelected(sessionOption(t, e, "Plex for Roku"))
	want := rules.RenderMessage(v.drafts[0].rule, bobSession())
	if got := e.rendered.Text; got != want || !strings.Contains(got, "Hi bob, Severance") || !strings.Contains(got, "On Roku:") {
		t.Errorf("preview %q, want %q", got, want)
	}
	if got := e.source.Text; got != "Uses the rule's message." {
		t.Errorf("message source %q", got)
	}

	// What Save would do: alice's video transcode matches, after 30s.
	p := v.preview
	if len(p.items) != 1 || p.items[0].Session.User != "alice" {
		t.Fatalf("preview lists %+v, want alice's transcode", p.items)
	}
	if got := previewCellText(&p.items[0], pvMessage, false); !strings.HasPrefix(got, "Hi alice, The Matrix needs converting on Plex Web.") {
		t.Errorf("preview message %q", got)
	}
	if got := previewCellText(&p.items[0], pvNotes, false); got != "after 30s" {
		t.Errorf("preview notes %q, want %q", got, "after 30s")
	}
	if got := v.status.Text; got != "Unsaved changes" || v.save.Disabled() {
		t.Errorf("status %q, Save disabled %v: want unsaved changes", got, v.save.Disabled())
	}

	test.Tap(v.save)
	u.bg.Wait()
	sets := fr.saved()
	if len(sets) != 1 {
		t.Fatalf("SetRules called %d times, want 1", len(sets))
	}
	r := sets[0].Rules[0]
	if r.Kind != rules.KindTranscode || r.Grace.Std() != 30*time.Second || r.Message != msg || !r.Enabled || r.Action != rules.ActionTerminate {
		t.Errorf("saved %+v", r)
	}
	if sets[0].DryRun || sets[0].Version != rules.Version {
		t.Errorf("saved file dry run %v, version %d", sets[0].DryRun, sets[0].Version)
	}
	if got := v.status.Text; got != "Saved to rules.json" || !v.save.Disabled() {
		t.Errorf("after Save: status %q, Save disabled %v", got, v.save.Disabled())
	}

	// The global dry run is part of the file.
	test.Tap(v.dry)
	test.Tap(v.save)
	u.bg.Wait()
	if sets = fr.saved(); len(sets) != 2 || !sets[1].DryRun {
		t.Errorf("dry run not saved: %d saves", len(sets))
	}
	if got := v.preview.count.Text; got != "1 action · dry run: nothing would be sent" {
		t.Errorf("preview count %q", got)
	}
	if got := previewCellText(&v.preview.items[0], pvNotes, false); got != "dry run, after 30s" {
		t.Errorf("preview notes %q in a dry run", got)
	}
}

func TestRulesInvalidField(t *testing.T) {
	fr := &fakeRules{file: twoRules()}
	u, _ := newRulesUI(t, fr, fixedState())
	v := u.rules
	e := v.editor

	e.grace.SetText("soon")
	l := e.errs["grace"]
	if !l.Visible() || l.Text != "“soon” is not a duration: use e.g. 30s, 5m or 1h30m." {
		t.Errorf("grace error %q (visible %v)", l.Text, l.Visible())
	}
	if got := v.drafts[0].rule.Grace.Std(); got != 20*time.Second {
		t.Errorf("draft grace %v, want the last good value 20s", got)
	}
	if len(v.preview.items) != 0 || !strings.Contains(v.preview.note.Text, "“No remote transcodes” is left out until its error is fixed.") {
		t.Errorf("preview %d items, note %q: want the broken rule left out", len(v.preview.items), v.preview.note.Text)
	}

	test.Tap(v.save)
	u.bg.Wait()
	if n := len(fr.saved()); n != 0 {
		t.Fatalf("SetRules called %d times with an invalid grace", n)
	}
	want := "Not saved: rule 1 “No remote transcodes”, Grace delay: “soon” is not a duration: use e.g. 30s, 5m or 1h30m."
	if got := v.errLabel.Text; got != want || !v.errLabel.Visible() {
		t.Errorf("save error %q (visible %v), want %q", got, v.errLabel.Visible(), want)
	}

	// The bad text survives selecting another rule and back.
	v.list.Select(1)
	v.list.Select(0)
	if e = v.editor; e.grace.Text != "soon" || !e.errs["grace"].Visible() {
		t.Errorf("after reselecting: grace %q, error shown %v", e.grace.Text, e.errs["grace"].Visible())
	}

	e.grace.SetText("45s")
	if e.errs["grace"].Visible() || v.errLabel.Visible() {
		t.Error("errors still shown after fixing the grace")
	}
	test.Tap(v.save)
	u.bg.Wait()
	if sets := fr.saved(); len(sets) != 1 || sets[0].Rules[0].Grace.Std() != 45*time.Second {
		t.Errorf("fixed rules not saved: %+v", sets)
	}
}

func TestRulesValidationInline(t *testing.T) {
	u, _ := newRulesUI(t, &fakeRules{file: twoRules()}, nil)
	v := u.rules
	e := v.editor
	e.message.SetText("Hi {usr}")
	l := e.errs["message"]
	if !l.Visible() || !strings.HasPrefix(l.Text, "Unknown placeholder {usr}") {
		t.Errorf("message error %q (visible %v)", l.Text, l.Visible())
	}
	e.message.SetText("Hi {user}")
	e.name.SetText("paused too LONG")
	if l := e.errs["name"]; !l.Visible() || l.Text != "Another rule has this name; names must be unique." {
		t.Errorf("name error %q (visible %v)", l.Text, l.Visible())
	}
}

func TestRulesBackendFileError(t *testing.T) {
	fr := &fakeRules{file: twoRules()}
	u, _ := newRulesUI(t, fr, fixedState())
	v := u.rules
	v.list.Select(1)
	v.editor.name.SetText("Long pauses")
	fr.setError(&rules.FileError{Rule: 1, Name: "Long pauses", Field: "pausedFor", Err: errors.New("set how long a pause may last")})
	test.Tap(v.save)
	u.bg.Wait()
	want := "Not saved: rule 2 “Long pauses”, Paused for at least: Set how long a pause may last."
	if got := v.errLabel.Text; got != want || !v.errLabel.Visible() {
		t.Errorf("save error %q, want %q", got, want)
	}
	if l := v.editor.errs["pausedFor"]; l == nil || !l.Visible() || l.Text != "Set how long a pause may last." {
		t.Errorf("no inline error at the field")
	}
	if v.status.Text != "Unsaved changes" || v.save.Disabled() {
		t.Errorf("status %q after a refused save", v.status.Text)
	}

	fr.setError(errors.New("disk full"))
	test.Tap(v.save)
	u.bg.Wait()
	if got := v.errLabel.Text; got != "Not saved: Disk full." {
		t.Errorf("save error %q", got)
	}
}

func TestRulesFileErrorBanner(t *testing.T) {
	fileErr := &rules.FileError{Path: "/home/me/.config/plexwarden/rules.json", Rule: 0, Name: "Late night", Field: "grace",
		Err: errors.New(`"5 minutes" is not a duration`)}
	fr := &fakeRules{file: rules.File{Version: rules.Version}, fileErr: fileErr}
	u, _ := newRulesUI(t, fr, nil)
	v := u.rules
	if !v.banner.Visible() || !strings.Contains(v.bannerText.Text, fileErr.Error()[1:]) ||
		!strings.Contains(v.bannerText.Text, "save new rules here to replace it") {
		t.Errorf("banner %q (visible %v)", v.bannerText.Text, v.banner.Visible())
	}
	if !v.save.Disabled() {
		t.Error("Save enabled without an edit: it would replace the broken file")
	}
	if got := v.hint.Text; !strings.HasPrefix(got, "No rules yet") {
		t.Errorf("empty editor hint %q", got)
	}
	addKind(t, v, rules.KindRemote)
	test.Tap(v.save)
	u.bg.Wait()
	if v.banner.Visible() {
		t.Error("banner still shown after new rules replaced the file")
	}
}

func TestRulesPauseFollowsTrayAndSettings(t *testing.T) {
	u, b := newRulesUI(t, &fakeRules{file: twoRules()}, fixedState())
	v := u.rules
	test.Tap(v.paused)
	if !b.RulesPaused() || !u.settings.paused.Checked {
		t.Error("pausing in Rules did not pause the rules or tick Settings")
	}
	if !strings.HasPrefix(v.preview.note.Text, "Rules are paused") {
		t.Errorf("preview note %q while paused", v.preview.note.Text)
	}
	u.trayAction(trayItem{Action: trayToggleRules})
	if b.RulesPaused() || v.paused.Checked {
		t.Error("resuming from the tray left the Rules check ticked")
	}
	test.Tap(u.settings.paused)
	u.tabs.Select(u.settingsTab)
	u.tabs.Select(u.rulesTab)
	if !v.paused.Checked {
		t.Error("pausing in Settings not shown in Rules")
	}
}

func TestRulesListActions(t *testing.T) {
	fr := &fakeRules{file: twoRules()}
	u, _ := newRulesUI(t, fr, nil)
	v := u.rules
	names := func() []string {
		var out []string
		for _, d := range v.drafts {
			out = append(out, d.rule.Name)
		}
		return out
	}

	v.duplicate()
	if want := []string{"No remote transcodes", "No remote transcodes (copy)", "Paused too long"}; !slices.Equal(names(), want) || v.sel != 1 {
		t.Fatalf("after Duplicate %q (selected %d), want %q", names(), v.sel, want)
	}
	if d := v.drafts[1]; !reflect.DeepEqual(d.rule.Messages, v.drafts[0].rule.Messages) || &d.rule.Exempt.Users[0] == &v.drafts[0].rule.Exempt.Users[0] {
		t.Error("the copy does not have its own copy of the lists")
	}
	test.Tap(v.editor.up)
	if want := []string{"No remote transcodes (copy)", "No remote transcodes", "Paused too long"}; !slices.Equal(names(), want) || v.sel != 0 {
		t.Errorf("after up %q (selected %d), want %q", names(), v.sel, want)
	}
	if !v.editor.up.Disabled() || v.editor.down.Disabled() {
		t.Error("move buttons of the first rule: want up disabled, down enabled")
	}
	v.move(+1)
	v.move(+1)
	if want := []string{"No remote transcodes", "Paused too long", "No remote transcodes (copy)"}; !slices.Equal(names(), want) || v.sel != 2 {
		t.Errorf("after down twice %q (selected %d), want %q", names(), v.sel, want)
	}

	test.Tap(findButton(t, v.editor.content, "Delete…"))
	yes := findButton(t, u.Window().Canvas().Overlays().Top(), "Yes")
	test.Tap(yes)
	if want := []string{"No remote transcodes", "Paused too long"}; !slices.Equal(names(), want) || v.sel != 1 {
		t.Errorf("after Delete %q (selected %d), want %q", names(), v.sel, want)
	}

	// Switching a rule off from its row.
	v.setEnabled(v.drafts[0], false)
	if v.drafts[0].rule.Enabled {
		t.Error("row switch did not disable the rule")
	}
	if !v.dirty() {
		t.Error("not dirty after edits")
	}
	test.Tap(v.revert)
	if !slices.Equal(names(), []string{"No remote transcodes", "Paused too long"}) || !v.drafts[0].rule.Enabled || v.dirty() {
		t.Errorf("Revert left %q, enabled %v, dirty %v", names(), v.drafts[0].rule.Enabled, v.dirty())
	}
	if n := len(fr.saved()); n != 0 {
		t.Errorf("%d saves without Save", n)
	}
}

func TestRulesListRow(t *testing.T) {
	u, _ := newRulesUI(t, &fakeRules{file: twoRules()}, nil)
	v := u.rules
	row := v.createItem()
	v.updateItem(1, row)
	parts := rowParts(row)
	if parts.name.text != "Paused too long" || parts.line.text != "Paused too long · stop transcode" || !parts.check.Checked {
		t.Errorf("row %q / %q / %v", parts.name.text, parts.line.text, parts.check.Checked)
	}
	test.Tap(parts.check)
	if v.drafts[1].rule.Enabled {
		t.Error("unticking the row did not disable the rule")
	}
	v.updateItem(0, row) // reused for another rule
	test.Tap(parts.check)
	if v.drafts[0].rule.Enabled {
		t.Error("the reused row did not switch its new rule")
	}
	if v.drafts[1].rule.Enabled {
		t.Error("the reused row switched its earlier rule back")
	}
}

func TestRulesPlayerMessages(t *testing.T) {
	u, _ := newRulesUI(t, &fakeRules{file: twoRules()}, fixedState())
	v := u.rules
	e := v.editor
	if n := len(e.msgRows.Objects); n != 1 {
		t.Fatalf("%d per-player rows, want the Roku one", n)
	}
	e.sessions.SetSelected(sessionOption(t, e, "Plex for Roku"))
	if got := e.rendered.Text; !strings.HasPrefix(got, "Hi bob! Severance - S01E03 - In Perpetuity was being converted for your Roku.") {
		t.Errorf("Roku preview %q", got)
	}
	if got := e.source.Text; got != "Uses the message for “roku”." { // Roku is bob's platform
		t.Errorf("source %q", got)
	}

	test.Tap(findButton(t, e.content, "Add player message"))
	if n := len(e.msgRows.Objects); n != 2 {
		t.Fatalf("%d rows after Add player message", n)
	}
	row := e.msgRows.Objects[1].(*fyne.Container)
	var key *widget.SelectEntry
	var text *widget.Entry
	for _, o := range test.LaidOutObjects(row) {
		switch w := o.(type) {
		case *widget.SelectEntry:
			key = w
		case *widget.Entry:
			if w.PlaceHolder == "Message for these players" {
				text = w
			}
		}
	}
	key.SetText("Plex for Roku")
	text.SetText("Exact product: {product}")
	want := map[string]string{"roku": "Hi {user}! {title} was being converted for your Roku. {quality}", "Plex for Roku": "Exact product: {product}"}
	if got := v.drafts[0].rule.Messages; !reflect.DeepEqual(got, want) {
		t.Errorf("messages %q, want %q", got, want)
	}
	if got := e.rendered.Text; got != "Exact product: Plex for Roku" {
		t.Errorf("preview %q: the exact product should beat the family", got)
	}

	// Removing the Roku family row.
	var removes []*widget.Button
	for _, o := range test.LaidOutObjects(e.msgRows) {
		if b, ok := o.(*widget.Button); ok && b.Icon != nil && b.Icon.Name() == theme.DeleteIcon().Name() {
			removes = append(removes, b)
		}
	}
	test.Tap(removes[0])
	want = map[string]string{"Plex for Roku": "Exact product: {product}"}
	if got := v.drafts[0].rule.Messages; !reflect.DeepEqual(got, want) {
		t.Errorf("after removing: messages %q, want %q", got, want)
	}
}

func TestRulesExampleSession(t *testing.T) {
	u, _ := newRulesUI(t, &fakeRules{file: twoRules()}, nil)
	e := u.rules.editor
	if !e.sample || !e.sessions.Disabled() {
		t.Error("with nothing playing the preview should use the example session")
	}
	if got := e.rendered.Text; !strings.HasPrefix(got, "Hi alice, this server does not convert video. In Plex Web:") {
		t.Errorf("example preview %q", got)
	}
	if got := u.rules.preview.empty.Text; got != "Nothing is playing: no rule would act." {
		t.Errorf("preview empty text %q", got)
	}
	u.apply(fixedState())
	if e.sample || e.sessions.Selected == "" {
		t.Error("a live session is not chosen once sessions play")
	}
}

func TestRulesEditorByKind(t *testing.T) {
	// Every kind's editor builds, and the default rule is valid as shown.
	u, _ := newRulesUI(t, &fakeRules{file: rules.File{Version: rules.Version}}, fixedState())
	v := u.rules
	for _, ki := range rules.Kinds() {
		addKind(t, v, ki.Kind)
		if d := v.drafts[v.sel]; d.problem != nil {
			t.Errorf("%s: new rule has a problem: %+v", ki.Kind, d.problem)
		}
		for _, o := range test.LaidOutObjects(v.editor.content) {
			if l, ok := o.(*widget.Label); ok && strings.HasPrefix(l.Text, "Edit this setting in") {
				t.Errorf("%s: a parameter has no editor", ki.Kind)
			}
		}
	}
	if len(v.drafts) != len(rules.Kinds()) {
		t.Fatalf("%d rules, want one per kind", len(v.drafts))
	}
	f := v.file()
	if err := f.Validate(); err != nil {
		t.Errorf("the default rules do not validate: %v", err)
	}
}

func TestRulesScheduleEditor(t *testing.T) {
	u, _ := newRulesUI(t, &fakeRules{file: twoRules()}, nil)
	v := u.rules
	e := v.editor
	var toggle *widget.Check
	days := map[string]*widget.Check{}
	var clocks []*widget.Entry
	for _, o := range test.LaidOutObjects(e.folds) {
		switch w := o.(type) {
		case *widget.Check:
			if w.Text == "Only at certain times" {
				toggle = w
			} else if len(w.Text) == 3 {
				days[strings.ToLower(w.Text)] = w
			}
		case *widget.Entry:
			if w.PlaceHolder == "HH:MM" {
				clocks = append(clocks, w)
			}
		}
	}
	if toggle == nil || len(days) != 7 || len(clocks) != 2 {
		t.Fatalf("schedule editor: toggle %v, %d days, %d clocks", toggle != nil, len(days), len(clocks))
	}
	test.Tap(toggle)
	test.Tap(days["sat"])
	test.Tap(days["sun"])
	clocks[0].SetText("22:00")
	clocks[1].SetText("2am")
	if p := v.drafts[0].problem; p == nil || p.field != "schedule.to" {
		t.Fatalf("problem %+v, want one about schedule.to", p)
	}
	if l := e.errs["schedule"]; !l.Visible() || !strings.Contains(l.Text, `"2am" is not a time`) {
		t.Errorf("schedule error %q (visible %v)", l.Text, l.Visible())
	}
	clocks[1].SetText("02:00")
	want := &rules.Schedule{Days: []string{"sat", "sun"}, From: "22:00", To: "02:00"}
	if got := v.drafts[0].rule.Schedule; !reflect.DeepEqual(got, want) {
		t.Errorf("schedule %+v, want %+v", got, want)
	}
	if got := e.folds.Items[2].Title; got != "Active: weekend 22:00–02:00" {
		t.Errorf("fold title %q", got)
	}
	test.Tap(toggle)
	if v.drafts[0].rule.Schedule != nil {
		t.Error("schedule kept after switching it off")
	}
	test.Tap(toggle)
	if got := v.drafts[0].rule.Schedule; !reflect.DeepEqual(got, want) {
		t.Errorf("schedule %+v after switching back on, want %+v", got, want)
	}
}

func TestRulesPreviewSelectsRule(t *testing.T) {
	fr := &fakeRules{file: twoRules()}
	st := fixedState()
	bob := bobSession()
	bob.StateSince = testNow.Add(-45 * time.Minute)
	st.Servers[0].Sessions[0] = bob
	fr.preview = []rules.PreviewItem{{Rule: "Paused too long", Session: bob, Done: true}}
	u, _ := newRulesUI(t, fr, st)
	v := u.rules
	var row = -1
	for i, it := range v.preview.items {
		if it.Rule == "Paused too long" {
			row = i
		}
	}
	if row < 0 {
		t.Fatalf("preview %+v lacks the paused rule", v.preview.items)
	}
	if got := previewCellText(&v.preview.items[row], pvNotes, v.preview.done["Paused too long\x00"+bob.Key()]); got != "already acted" {
		t.Errorf("notes %q, want already acted", got)
	}
	if got := previewCellText(&v.preview.items[row], pvMessage, false); got != "(no message)" {
		t.Errorf("stop transcode message %q", got)
	}
	v.preview.onSelected(v, widget.TableCellID{Row: row, Col: 0})
	if v.sel != 1 || !strings.HasPrefix(v.editor.sessions.Selected, "bob") {
		t.Errorf("selecting the preview row: rule %d, session %q", v.sel, v.editor.sessions.Selected)
	}
}

func TestParseHelpers(t *testing.T) {
	durations := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"", 0, ""},
		{"30s", 30 * time.Second, ""},
		{" 5m ", 5 * time.Minute, ""},
		{"1h 30m", 90 * time.Minute, ""},
		{"soon", 0, "“soon” is not a duration: use e.g. 30s, 5m or 1h30m"},
		{"30", 0, "“30” needs a unit: e.g. 30s or 30m"},
	}
	for _, tt := range durations {
		got, err := parseDuration(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && err.Error() != tt.err) {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
	wholes := []struct {
		in   string
		want int64
		ok   bool
	}{{"", 0, true}, {"20000", 20000, true}, {"20 000", 20000, true}, {"2.5", 0, false}, {"x", 0, false}}
	for _, tt := range wholes {
		if got, err := parseWhole(tt.in); got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseWhole(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	lists := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"alice, bob", []string{"alice", "bob"}},
		{"10.0.0.0/8\n192.168.1.0/24, 2001:db8::/32", []string{"10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32"}},
	}
	for _, tt := range lists {
		if got := parseList(tt.in); !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("parseList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	shorts := map[time.Duration]string{0: "0s", 30 * time.Second: "30s", 5 * time.Minute: "5m", 90 * time.Minute: "1h30m", 2 * time.Hour: "2h", 61 * time.Second: "1m1s"}
	for d, want := range shorts {
		if got := words.ShortDuration(d); got != want {
			t.Errorf("words.ShortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFieldHelpers(t *testing.T) {
	keys := []struct{ field, want string }{
		{"grace", "grace"},
		{"scope.players[2]", "scope.players"},
		{"codecs[0]", "codecs"},
		{"messages.roku", "messages"},
		{"schedule.days[1]", "schedule.days"},
	}
	for _, tt := range keys {
		if got := fieldKey(tt.field); got != tt.want {
			t.Errorf("fieldKey(%q) = %q, want %q", tt.field, got, tt.want)
		}
	}
	labels := []struct {
		kind      rules.Kind
		key, want string
	}{
		{rules.KindBandwidth, "maxKbps", "Limit (kbps)"},
		{rules.KindTranscode, "grace", "Grace delay"},
		{rules.KindTranscode, "scope.players", "Applies to: players"},
		{rules.KindTranscode, "exempt.users", "Never: users"},
		{rules.KindTranscode, "schedule.from", "Active: from"},
		{rules.KindTranscode, "name", "Name"},
		{rules.KindTranscode, "somethingNew", "somethingNew"},
	}
	for _, tt := range labels {
		if got := fieldLabel(tt.kind, tt.key); got != tt.want {
			t.Errorf("fieldLabel(%s, %q) = %q, want %q", tt.kind, tt.key, got, tt.want)
		}
	}
	if got := uniqueName("Bandwidth", []string{"bandwidth", "Bandwidth 2", " other"}); got != "Bandwidth 3" {
		t.Errorf("uniqueName = %q, want Bandwidth 3", got)
	}
	sentences := map[string]string{"": "", "disk full": "Disk full.", "“x” is bad.": "“x” is bad.", "é ok?": "É ok?"}
	for in, want := range sentences {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEveryParamEditable checks that each parameter rules.Kinds() and
// rules.Common name is a field of rules.Rule of a type the editor knows.
func TestEveryParamEditable(t *testing.T) {
	types := map[string][]string{
		"bool": {"*bool"}, "int": {"*int"}, "kbps": {"*int64"}, "duration": {"*rules.Duration"},
		"resolution": {"*string"}, "pick": {"*string"}, "condition": {"*string"},
		"codecs": {"*[]string"}, "networks": {"*[]string"}, "players": {"*[]string"}, "schedule": {"**rules.Schedule"},
	}
	var r rules.Rule
	for _, ki := range rules.Kinds() {
		for _, p := range ki.Params {
			ptr := ruleField(&r, p.Field)
			got := reflect.TypeOf(ptr).String()
			if !slices.Contains(types[p.Type], got) {
				t.Errorf("%s.%s: type %q is a %s, want one of %q", ki.Kind, p.Field, p.Type, got, types[p.Type])
			}
		}
	}
	for _, p := range rules.Common {
		if ruleField(&r, p.Field) == nil {
			t.Errorf("common parameter %q is not a field of rules.Rule", p.Field)
		}
	}
	if ruleField(&r, "nope") != nil {
		t.Error("ruleField found a field that does not exist")
	}
}

func TestRuleTexts(t *testing.T) {
	r := twoRules().Rules[0]
	if got, want := ruleSummary(r), "Video transcode · terminate · grace 20s"; got != want {
		t.Errorf("ruleSummary = %q, want %q", got, want)
	}
	folds := []string{"Applies to: all sessions", "Never: users, LAN", "Active: always"}
	for i, want := range folds {
		if got := foldSummary(&r, i); got != want {
			t.Errorf("foldSummary(%d) = %q, want %q", i, got, want)
		}
	}
	scheds := []struct {
		s    rules.Schedule
		want string
	}{
		{rules.Schedule{From: "01:00", To: "06:00"}, "every day 01:00–06:00"},
		{rules.Schedule{Days: []string{"weekdays"}, From: "22:00", To: "06:00"}, "weekdays 22:00–06:00"},
		{rules.Schedule{Days: []string{"Friday", "sat"}, From: "20:00", To: "24:00"}, "fri sat 20:00–24:00"},
	}
	for _, tt := range scheds {
		if got := scheduleText(&tt.s); got != tt.want {
			t.Errorf("scheduleText(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
	sources := []struct {
		name string
		r    rules.Rule
		s    app.Session
		want string
	}{
		{"platform", r, bobSession(), "Uses the message for “roku”."},
		{"family", r, app.Session{Player: app.Player{Product: "Plex for Roku"}}, "Uses the message for “roku” players."},
		{"rule message", r, aliceSession(), "Uses the rule's message."},
		{"default", twoRules().Rules[1], aliceSession(), "Uses the default message."},
		{"exact product", rules.Rule{Messages: map[string]string{"roku": "a", "plex for roku": "b"}}, bobSession(), "Uses the message for “plex for roku”."},
	}
	for _, tt := range sources {
		if got := messageSource(tt.r, tt.s); got != tt.want {
			t.Errorf("%s: messageSource = %q, want %q", tt.name, got, tt.want)
		}
	}
	rows := messageRows(map[string]string{"web": "w", "Plex for Xbox": "x", "roku": "r"})
	if got := []string{rows[0].key, rows[1].key, rows[2].key}; !slices.Equal(got, []string{"roku", "web", "Plex for Xbox"}) {
		t.Errorf("messageRows order %q", got)
	}
	if m := messagesMap([]msgRow{{" ", ""}, {"roku ", "r"}}); !reflect.DeepEqual(m, map[string]string{"roku": "r"}) {
		t.Errorf("messagesMap = %q", m)
	}
	if messagesMap([]msgRow{{"", ""}}) != nil {
		t.Error("messagesMap of empty rows is not nil")
	}
	if !sameFile(rules.File{}, rules.File{Rules: []rules.Rule{}}) || sameFile(rules.File{}, rules.File{DryRun: true}) {
		t.Error("sameFile: nil and empty rules should be equal, dry run not")
	}
}
