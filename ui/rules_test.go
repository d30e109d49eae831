package ui

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/rules"
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
	blocks  []rules.Block
	usage   []rules.QuotaUsage
	lifted  []string
}

func (f *fakeRules) Blocks() []rules.Block {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.blocks)
}

// LiftBlock records the call and drops the user's blocks.
func (f *fakeRules) LiftBlock(user string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifted = append(f.lifted, user)
	n := len(f.blocks)
	f.blocks = slices.DeleteFunc(f.blocks, func(b rules.Block) bool { return b.User == user })
	return n - len(f.blocks), nil
}

func (f *fakeRules) Usage() []rules.QuotaUsage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.usage)
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
		if it.Label == rules.KindName(k) {
			it.Action()
			return
		}
	}
	t.Fatalf("no %q in the Add rule menu", rules.KindName(k))
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
	if got := previewMessage(&p.items[0]); !strings.HasPrefix(got, "Hi alice, The Matrix needs converting on Plex Web.") {
		t.Errorf("preview message %q", got)
	}
	if got := previewNotes(&p.items[0], false); got != "after 30s" {
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
	if got := previewNotes(&v.preview.items[0], false); got != "dry run, after 30s" {
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
