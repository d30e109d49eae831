package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/internal/words"
	"github.com/plexwarden/plexwarden/plex"
)

// RulesBackend reads, saves and previews the automatic rules for the Rules
// tab; the desktop app implements it over its rules engine, tests fake it.
// Every method must return quickly except SetRules, which writes a file
// and is called off the UI goroutine.
type RulesBackend interface {
	// Rules returns the rules in force.
	Rules() rules.File
	// SetRules validates f, saves it (atomically, mode 0600, keeping the
	// old file as rules.json.bak) and applies it. An invalid f gives a
	// *rules.FileError and changes nothing.
	SetRules(f rules.File) error
	// RulesError is the problem with the rules file found at start, or
	// nil. Such a file was not used and is not replaced until new rules
	// are saved.
	RulesError() error
	// Preview says what the rules in force would do to the sessions of st
	// now, marking the sessions they already acted on.
	Preview(st *app.State) []rules.PreviewItem
	// Paused and SetPaused read and set the pause switch. The UI reads and
	// sets it through Backend.RulesPaused and SetRulesPaused, which keep
	// the tray and Settings in step; these are the same switch.
	Paused() bool
	SetPaused(paused bool)
}

// rulesView is the Rules tab: the global switches, the list of rules, the
// editor of the selected rule with its message and a live preview of the
// message, and what the rules as edited would do to the live sessions now.
// Edits stay in the view until Save hands the whole file to the backend.
type rulesView struct {
	u *UI
	b RulesBackend

	saved     rules.File   // the rules in force, as last loaded or saved
	drafts    []*ruleDraft // the rules as edited, in order
	dryRun    bool         // the global dry-run switch as edited
	sel       int          // index of the selected draft, -1 for none
	fileErr   error        // RulesBackend.RulesError, until new rules are saved
	saveErr   string       // why the last Save failed, until the next edit
	saving    bool
	justSaved bool // "Saved to rules.json" shows until the next edit
	syncing   bool // widgets are being set from the model: ignore their OnChanged

	paused     *widget.Check
	dry        *widget.Check
	status     *widget.Label
	save       *widget.Button
	revert     *widget.Button
	banner     *fyne.Container
	bannerText *widget.Label
	errLabel   *widget.Label // the Save error, under the switches
	top        *fyne.Container

	list      *widget.List
	editor    *ruleEditor     // nil when no rule is selected
	hint      *widget.Label   // shown instead of the editor
	editArea  *fyne.Container // the editor's two columns, or a hint
	noEditor  fyne.CanvasObject
	preview   *previewPane
	content   fyne.CanvasObject
	addButton *widget.Button
}

// ruleDraft is one rule as edited. Fields whose text does not parse (a
// grace of "soon") keep the last good value in rule, and the text and the
// reason in raw and bad, so Save can refuse and the editor can show them
// again after another rule was selected.
type ruleDraft struct {
	rule rules.Rule
	msgs []msgRow          // per-player messages as edited; rule.Messages is built from them
	raw  map[string]string // field key → text that does not parse
	bad  map[string]string // field key → why
	// lastSchedule is the schedule before "Only at certain times" was
	// switched off, so switching it on again brings it back.
	lastSchedule *rules.Schedule
	problem      *problem // computed by check: the first thing wrong with the rule
}

// msgRow is one per-player message: a player family or product, and the
// template.
type msgRow struct{ key, text string }

// problem is what is wrong with a rule, and where.
type problem struct {
	field string // editor field key ("grace", "scope.players", "messages"); "" for the rule as a whole
	text  string // what is wrong, as a sentence
}

func newDraft(r rules.Rule) *ruleDraft {
	d := &ruleDraft{rule: cloneRule(r), raw: map[string]string{}, bad: map[string]string{}}
	d.msgs = messageRows(r.Messages)
	return d
}

// cloneRule copies r deeply: drafts never share lists with the backend's
// rules.
func cloneRule(r rules.Rule) rules.Rule {
	r.Messages = maps.Clone(r.Messages)
	r.Codecs = slices.Clone(r.Codecs)
	r.AllowNetworks = slices.Clone(r.AllowNetworks)
	r.DenyNetworks = slices.Clone(r.DenyNetworks)
	r.Players = slices.Clone(r.Players)
	r.Scope = rules.Scope{
		Users: slices.Clone(r.Scope.Users), Players: slices.Clone(r.Scope.Players), Servers: slices.Clone(r.Scope.Servers),
		Libraries: slices.Clone(r.Scope.Libraries), MediaTypes: slices.Clone(r.Scope.MediaTypes),
	}
	r.Exempt = rules.Exempt{Users: slices.Clone(r.Exempt.Users), Players: slices.Clone(r.Exempt.Players), LAN: r.Exempt.LAN}
	if r.Schedule != nil {
		s := *r.Schedule
		s.Days = slices.Clone(s.Days)
		r.Schedule = &s
	}
	return r
}

// messageRows lists per-player messages in the order of
// rules.PlayerFamilies, then other keys alphabetically.
func messageRows(m map[string]string) []msgRow {
	keys := slices.Collect(maps.Keys(m))
	rank := func(k string) int {
		for i, f := range rules.PlayerFamilies {
			if strings.EqualFold(f.Key, k) {
				return i
			}
		}
		return len(rules.PlayerFamilies)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	})
	rows := make([]msgRow, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, msgRow{k, m[k]})
	}
	return rows
}

// messagesMap builds Rule.Messages from the rows: rows left empty are
// dropped, and none gives nil (the file then has no "messages").
func messagesMap(rows []msgRow) map[string]string {
	var m map[string]string
	for _, r := range rows {
		if strings.TrimSpace(r.key) == "" && strings.TrimSpace(r.text) == "" {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[strings.TrimSpace(r.key)] = r.text
	}
	return m
}

func newRulesView(u *UI, b RulesBackend) *rulesView {
	v := &rulesView{u: u, b: b, sel: -1}

	v.paused = widget.NewCheck("Pause all rules", func(on bool) {
		if !v.syncing {
			v.u.setRulesPaused(on)
			v.preview.refresh(v)
		}
	})
	v.dry = widget.NewCheck("Dry run (log only, send nothing)", func(on bool) {
		if !v.syncing {
			v.dryRun = on
			v.changed()
		}
	})
	v.status = widget.NewLabel("")
	v.revert = widget.NewButtonWithIcon("Revert", theme.ContentUndoIcon(), v.revertEdits)
	v.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), v.saveRules)
	v.save.Importance = widget.HighImportance
	switches := container.NewBorder(nil, nil, container.NewHBox(v.paused, v.dry), container.NewHBox(v.status, v.revert, v.save))

	v.bannerText = widget.NewLabel("")
	v.bannerText.Wrapping = fyne.TextWrapWord
	v.bannerText.Selectable = true // the path and the error are for copying
	bg := canvas.NewRectangle(withAlpha(theme.Color(theme.ColorNameWarning), 0x40))
	v.banner = container.NewStack(bg, container.NewBorder(nil, nil,
		container.NewVBox(widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))), nil, v.bannerText))
	v.banner.Hide()
	v.errLabel = newLabel("", widget.DangerImportance)
	v.errLabel.Wrapping = fyne.TextWrapWord
	v.errLabel.Hide()
	v.top = container.NewVBox(switches, v.banner, v.errLabel)

	v.list = &widget.List{Length: v.length, CreateItem: v.createItem, UpdateItem: v.updateItem, OnSelected: v.onSelected}
	v.list.ExtendBaseWidget(v.list)
	v.addButton = widget.NewButtonWithIcon("Add rule…", theme.ContentAddIcon(), v.showAddMenu)
	left := container.NewBorder(nil, container.NewHBox(v.addButton), nil, nil, v.list)

	v.hint = newLabel("", widget.LowImportance)
	v.hint.Alignment = fyne.TextAlignCenter
	v.noEditor = container.NewCenter(v.hint)
	v.editArea = container.NewStack(v.noEditor)

	main := container.NewHSplit(left, v.editArea)
	main.Offset = 0.24
	v.preview = newPreviewPane(v)
	split := container.NewVSplit(main, v.preview.content)
	split.Offset = 0.7
	v.content = container.NewBorder(v.top, nil, nil, nil, split)

	v.fileErr = b.RulesError()
	v.load(b.Rules())
	v.syncPaused()
	return v
}

// load replaces the drafts with f (start, Revert) and selects the first
// rule.
func (v *rulesView) load(f rules.File) {
	v.saved = f
	v.drafts = nil
	for _, r := range f.Rules {
		v.drafts = append(v.drafts, newDraft(r))
	}
	v.dryRun = f.DryRun
	v.saveErr = ""
	v.syncing = true
	v.dry.SetChecked(f.DryRun)
	v.syncing = false
	v.list.UnselectAll()
	v.sel = -1
	if len(v.drafts) > 0 {
		v.list.Select(0) // builds the editor and runs changed
		return
	}
	v.showEditor()
	v.changed()
}

// shown runs when the tab is selected: the pause switch may have changed
// in Settings, states were not followed while hidden, and with nothing
// edited the rules in force are shown afresh.
func (v *rulesView) shown() {
	v.syncPaused()
	if !v.dirty() && !v.saving {
		v.fileErr = v.b.RulesError()
		if cur := v.b.Rules(); !sameFile(cur, v.saved) {
			sel := v.sel
			v.load(cur)
			if sel > 0 && sel < len(v.drafts) {
				v.selectDraft(sel)
			}
		}
	}
	if v.editor != nil {
		v.editor.setSessions()
	}
	v.changed()
}

// visible reports whether the Rules tab is the one shown.
func (v *rulesView) visible() bool {
	return v.u.tabs != nil && v.u.tabs.Selected() == v.u.rulesTab
}

// syncPaused shows the pause switch, which the tray and Settings change
// too.
func (v *rulesView) syncPaused() {
	v.syncing = true
	v.paused.SetChecked(v.u.b.RulesPaused())
	v.syncing = false
}

// setState follows a new state: the sessions of the message preview and
// the table of what the rules would do (UI goroutine). A hidden tab skips
// it (states come ten times a second); shown catches up.
func (v *rulesView) setState(*app.State) {
	if !v.visible() {
		return
	}
	if v.editor != nil {
		v.editor.setSessions()
	}
	v.preview.refresh(v)
}

// file is the rules file as edited: the file in force with the edited
// rules and dry-run switch (its other sections, such as local, stay).
func (v *rulesView) file() rules.File {
	f := v.saved
	f.Version = rules.Version
	f.DryRun = v.dryRun
	f.Rules = make([]rules.Rule, 0, len(v.drafts))
	for _, d := range v.drafts {
		f.Rules = append(f.Rules, cloneRule(d.rule))
	}
	return f
}

// sameFile compares the parts of two rules files the view edits, through
// their JSON form, so that nil and empty lists are equal.
func sameFile(a, b rules.File) bool {
	edited := func(f rules.File) string {
		if len(f.Rules) == 0 {
			f.Rules = nil
		}
		j, _ := json.Marshal(struct {
			D bool
			R []rules.Rule
		}{f.DryRun, f.Rules})
		return string(j)
	}
	return edited(a) == edited(b)
}

// sentence makes an error message a sentence: a capital first letter
// (rune-aware: messages may start with a quotation mark) and a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	s = string(r)
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

// dirty reports unsaved edits, including text that does not parse.
func (v *rulesView) dirty() bool {
	for _, d := range v.drafts {
		if len(d.bad) > 0 {
			return true
		}
	}
	return !sameFile(v.file(), v.saved)
}

// changed runs after every edit: it checks the rules, updates the list,
// the editor's errors and message preview, the status and the preview of
// what the rules would do (UI goroutine).
func (v *rulesView) changed() {
	v.saveErr = ""
	v.justSaved = false
	v.check()
	v.list.Refresh()
	if v.editor != nil {
		v.editor.showProblem()
		v.editor.updateFolds()
		v.editor.renderMessage()
	}
	v.updateStatus()
	v.preview.refresh(v)
}

// check finds the first problem of each rule: text that does not parse,
// what rules.File.Validate says of the rule alone, or a name used twice.
func (v *rulesView) check() {
	names := map[string]int{}
	for _, d := range v.drafts {
		d.problem = draftProblem(d)
		names[strings.ToLower(strings.TrimSpace(d.rule.Name))]++
	}
	// Both rules of a pair get the problem: the admin may be editing either.
	for _, d := range v.drafts {
		if d.problem == nil && names[strings.ToLower(strings.TrimSpace(d.rule.Name))] > 1 {
			d.problem = &problem{field: "name", text: "Another rule has this name; names must be unique."}
		}
	}
}

// draftProblem is the first thing wrong with one rule, or nil.
func draftProblem(d *ruleDraft) *problem {
	if keys := slices.Sorted(maps.Keys(d.bad)); len(keys) > 0 {
		return &problem{field: keys[0], text: d.bad[keys[0]]}
	}
	f := rules.File{Version: rules.Version, Rules: []rules.Rule{d.rule}}
	var fe *rules.FileError
	if err := f.Validate(); errors.As(err, &fe) {
		return &problem{field: fieldKey(fe.Field), text: sentence(fe.Err.Error())}
	} else if err != nil {
		return &problem{text: sentence(err.Error())}
	}
	return nil
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// fieldKey turns a rules file field ("scope.players[2]") into the key of
// its editor field ("scope.players"); per-player messages share one key.
func fieldKey(field string) string {
	k := indexRE.ReplaceAllString(field, "")
	if strings.HasPrefix(k, "messages.") {
		return "messages"
	}
	return k
}

// updateStatus shows whether there are unsaved edits and enables Save and
// Revert accordingly.
func (v *rulesView) updateStatus() {
	dirty := v.dirty()
	switch {
	case v.saving:
		v.status.Importance = widget.MediumImportance
		setText(v.status, "Saving…")
	case v.justSaved:
		v.status.Importance = widget.SuccessImportance
		setText(v.status, "Saved to "+rules.FileName)
	case dirty:
		v.status.Importance = widget.WarningImportance
		setText(v.status, "Unsaved changes")
	default:
		setText(v.status, "")
	}
	v.status.Refresh()
	if dirty && !v.saving {
		v.save.Enable()
		v.revert.Enable()
	} else {
		v.save.Disable()
		v.revert.Disable()
	}
	if v.fileErr != nil {
		setText(v.bannerText, rulesFileErrorText(v.fileErr))
	}
	setVisible(v.banner, v.top, v.fileErr != nil)
	setText(v.errLabel, v.saveErr)
	setVisible(v.errLabel, v.top, v.saveErr != "")
}

// rulesFileErrorText is the banner shown when the rules file found at
// start could not be used.
func rulesFileErrorText(err error) string {
	return "The rules file could not be used, so no rules are running. " + sentence(err.Error()) +
		"\nFix the file, or save new rules here to replace it (the old file is kept as " + rules.FileName + ".bak)."
}

// List of rules.

func (v *rulesView) length() int { return len(v.drafts) }

// ruleRow is a row of the list: the enabled switch, the name and a line
// with the kind, action and grace.
type ruleRow struct {
	check *widget.Check
	name  *tableCell
	line  *tableCell
}

func (v *rulesView) createItem() fyne.CanvasObject {
	r := &ruleRow{check: widget.NewCheck("", nil), name: newTableCell(), line: newTableCell()}
	return container.NewBorder(nil, nil, r.check, nil, container.NewVBox(r.name, r.line))
}

func rowParts(o fyne.CanvasObject) *ruleRow {
	c := o.(*fyne.Container)
	lines := c.Objects[0].(*fyne.Container)
	return &ruleRow{check: c.Objects[1].(*widget.Check), name: lines.Objects[0].(*tableCell), line: lines.Objects[1].(*tableCell)}
}

func (v *rulesView) updateItem(i widget.ListItemID, o fyne.CanvasObject) {
	r := rowParts(o)
	if i < 0 || i >= len(v.drafts) {
		return
	}
	d := v.drafts[i]
	// Rows are reused: the switch names its draft, set on every update.
	r.check.OnChanged = nil
	r.check.SetChecked(d.rule.Enabled)
	r.check.OnChanged = func(on bool) { v.setEnabled(d, on) }
	r.name.set(d.rule.Name, false)
	if d.problem != nil {
		r.line.set(d.problem.text, true)
	} else {
		r.line.set(ruleSummary(d.rule), false)
	}
}

// ruleSummary is the second line of a rule in the list:
// "Video transcode · terminate · grace 20s".
func ruleSummary(r rules.Rule) string {
	grace := ""
	if r.Grace > 0 {
		grace = "grace " + words.ShortDuration(r.Grace.Std())
	}
	return joinDot(kindName(r.Kind), actionShort(r.Action), grace)
}

// setEnabled switches a rule on or off from its row.
func (v *rulesView) setEnabled(d *ruleDraft, on bool) {
	d.rule.Enabled = on
	if v.editor != nil && v.editor.d == d {
		v.editor.syncEnabled()
	}
	v.changed()
}

func (v *rulesView) onSelected(i widget.ListItemID) {
	if i < 0 || i >= len(v.drafts) || i == v.sel {
		return
	}
	v.sel = i
	v.showEditor()
	v.changed()
}

// selectDraft selects rule i in the list (and so in the editor).
func (v *rulesView) selectDraft(i int) {
	if i < 0 || i >= len(v.drafts) {
		v.list.UnselectAll()
		v.sel = -1
		v.showEditor()
		return
	}
	if i == v.sel {
		v.list.Select(i) // highlight; onSelected ignores it
		return
	}
	v.list.Select(i)
}

// showEditor builds the editor of the selected rule.
func (v *rulesView) showEditor() {
	if v.sel < 0 || v.sel >= len(v.drafts) {
		v.editor = nil
		if len(v.drafts) == 0 {
			v.hint.SetText("No rules yet: Plex Warden only watches.\nAdd a rule to act on streams automatically.")
		} else {
			v.hint.SetText("Select a rule to edit it.")
		}
		v.editArea.Objects = []fyne.CanvasObject{v.noEditor}
		v.editArea.Refresh()
		return
	}
	v.editor = newRuleEditor(v, v.drafts[v.sel])
	v.editArea.Objects = []fyne.CanvasObject{v.editor.content}
	v.editArea.Refresh()
}

// addMenu offers every kind of rule (Add rule…).
func (v *rulesView) addMenu() *fyne.Menu {
	var items []*fyne.MenuItem
	for _, k := range rules.Kinds() {
		items = append(items, fyne.NewMenuItem(k.Name, func() { v.addRule(k.Kind) }))
	}
	return fyne.NewMenu("Add rule", items...)
}

func (v *rulesView) showAddMenu() {
	c := fyne.CurrentApp().Driver().CanvasForObject(v.addButton)
	if c == nil {
		return
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(v.addButton)
	widget.ShowPopUpMenuAtPosition(v.addMenu(), c, pos.Add(fyne.NewPos(0, v.addButton.Size().Height)))
}

// addRule appends a new rule of kind k with its defaults and selects it.
func (v *rulesView) addRule(k rules.Kind) {
	r := rules.DefaultRule(k, v.uniqueName(kindName(k)))
	v.drafts = append(v.drafts, newDraft(r))
	v.list.Refresh()
	v.selectDraft(len(v.drafts) - 1)
	v.changed()
}

// uniqueName is base, or "base 2", "base 3"… when another rule has it.
func (v *rulesView) uniqueName(base string) string {
	names := make([]string, len(v.drafts))
	for i, d := range v.drafts {
		names[i] = d.rule.Name
	}
	return uniqueName(base, names)
}

func uniqueName(base string, names []string) string {
	taken := map[string]bool{}
	for _, n := range names {
		taken[strings.ToLower(strings.TrimSpace(n))] = true
	}
	name := base
	for i := 2; taken[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s %d", base, i)
	}
	return name
}

// duplicate copies the selected rule below it, as "name (copy)".
func (v *rulesView) duplicate() {
	if v.sel < 0 {
		return
	}
	d := v.drafts[v.sel]
	r := cloneRule(d.rule)
	r.Name = v.uniqueName(strings.TrimSpace(d.rule.Name) + " (copy)")
	nd := newDraft(r)
	nd.msgs = slices.Clone(d.msgs)
	nd.raw, nd.bad = maps.Clone(d.raw), maps.Clone(d.bad)
	v.drafts = slices.Insert(v.drafts, v.sel+1, nd)
	v.list.Refresh()
	v.selectDraft(v.sel + 1)
	v.changed()
}

// confirmDelete asks before deleting the selected rule.
func (v *rulesView) confirmDelete() {
	if v.sel < 0 {
		return
	}
	d := v.drafts[v.sel]
	dialog.ShowConfirm("Delete rule", "Delete “"+d.rule.Name+"”? It stays in force until you save.", func(ok bool) {
		if ok {
			v.deleteDraft(d)
		}
	}, v.u.win)
}

// deleteDraft removes d and selects its neighbour.
func (v *rulesView) deleteDraft(d *ruleDraft) {
	i := slices.Index(v.drafts, d)
	if i < 0 {
		return
	}
	v.drafts = slices.Delete(v.drafts, i, i+1)
	v.sel = -1
	v.list.UnselectAll()
	v.list.Refresh()
	v.selectDraft(min(i, len(v.drafts)-1))
	v.changed()
}

// move moves the selected rule up (-1) or down (+1): rules act in order.
func (v *rulesView) move(delta int) {
	i, j := v.sel, v.sel+delta
	if i < 0 || j < 0 || j >= len(v.drafts) {
		return
	}
	v.drafts[i], v.drafts[j] = v.drafts[j], v.drafts[i]
	v.sel = j
	v.list.Select(j)
	v.list.Refresh()
	if v.editor != nil {
		v.editor.updateMoves()
	}
	v.changed()
}

// revertEdits drops every edit and shows the rules in force.
func (v *rulesView) revertEdits() {
	sel := v.sel
	v.load(v.b.Rules())
	if sel > 0 && sel < len(v.drafts) {
		v.selectDraft(sel)
	}
}

// saveRules checks the edited rules and hands them to the backend off the
// UI goroutine. A problem selects its rule and names the field; nothing is
// saved then.
func (v *rulesView) saveRules() {
	if v.saving {
		return
	}
	v.check()
	for i, d := range v.drafts {
		if d.problem != nil {
			v.selectDraft(i)
			v.changed()
			v.saveErr = "Not saved: " + problemText(i, d, d.problem)
			v.updateStatus()
			return
		}
	}
	f := v.file()
	if err := f.Validate(); err != nil { // the file as a whole (e.g. its local section)
		v.showSaveError(err)
		return
	}
	v.saving = true
	v.updateStatus()
	v.u.bg.Add(1)
	go func() {
		defer v.u.bg.Done()
		err := v.b.SetRules(f)
		fyne.Do(func() {
			v.saving = false
			if err != nil {
				v.showSaveError(err)
				return
			}
			v.saved = f
			v.fileErr = nil // the file was replaced
			v.saveErr = ""
			v.justSaved = true
			v.updateStatus()
			if v.u.started {
				v.u.later(4*time.Second, func() {
					if v.justSaved {
						v.justSaved = false
						v.updateStatus()
					}
				})
			}
		})
	}()
}

// showSaveError shows why Save failed; a *rules.FileError about one rule
// selects it and shows the error at its field too.
func (v *rulesView) showSaveError(err error) {
	var fe *rules.FileError
	if errors.As(err, &fe) && fe.Rule >= 0 && fe.Rule < len(v.drafts) {
		d := v.drafts[fe.Rule]
		p := &problem{field: fieldKey(fe.Field), text: sentence(fe.Err.Error())}
		v.selectDraft(fe.Rule)
		d.problem = p
		v.list.Refresh()
		if v.editor != nil && v.editor.d == d {
			v.editor.showProblem()
		}
		v.saveErr = "Not saved: " + problemText(fe.Rule, d, p)
	} else {
		v.saveErr = "Not saved: " + sentence(err.Error())
	}
	v.updateStatus()
}

// problemText names the rule and the field of a problem:
// `rule 2 “Late night”, Grace delay: “soon” is not a duration…`.
func problemText(i int, d *ruleDraft, p *problem) string {
	s := fmt.Sprintf("rule %d “%s”", i+1, d.rule.Name)
	if p.field != "" {
		s += ", " + fieldLabel(d.rule.Kind, p.field)
	}
	return s + ": " + p.text
}

// fieldLabel is the editor's label of a field key, e.g. "Grace delay" for
// "grace" and "Applies to: players" for "scope.players".
func fieldLabel(k rules.Kind, key string) string {
	switch key {
	case "name":
		return "Name"
	case "kind":
		return "Kind"
	}
	for _, p := range kindParams(k) {
		if p.Field == key {
			return p.Label
		}
	}
	for _, p := range rules.Common {
		if p.Field == key {
			return p.Label
		}
	}
	for _, f := range listFields {
		if f.key == key {
			return f.section + ": " + strings.ToLower(f.label)
		}
	}
	switch key {
	case "exempt.lan":
		return "Never: streams on the LAN"
	case "schedule.from", "schedule.to", "schedule.days":
		return "Active: " + strings.TrimPrefix(key, "schedule.")
	}
	return key
}

// kindParams are the kind's own parameters.
func kindParams(k rules.Kind) []rules.Param {
	for _, ki := range rules.Kinds() {
		if ki.Kind == k {
			return ki.Params
		}
	}
	return nil
}

// kindInfo describes kind k; unknown kinds get their name only.
func kindInfo(k rules.Kind) rules.KindInfo {
	for _, ki := range rules.Kinds() {
		if ki.Kind == k {
			return ki
		}
	}
	return rules.KindInfo{Kind: k, Name: string(k)}
}

func kindName(k rules.Kind) string { return kindInfo(k).Name }

// commonParam is the shared parameter named field (for its label and help).
func commonParam(field string) rules.Param {
	for _, p := range rules.Common {
		if p.Field == field {
			return p
		}
	}
	return rules.Param{Field: field, Label: field}
}

// actionChoices are the actions in the editor's select.
var actionChoices = []struct {
	action rules.Action
	label  string
}{
	{rules.ActionTerminate, "Terminate with the message"},
	{rules.ActionStopTranscode, "Stop the transcode only"},
	{rules.ActionNotify, "Notify me only"},
	{rules.ActionLog, "Log only (dry run)"},
}

// actionShort names an action in the list and the preview.
func actionShort(a rules.Action) string {
	switch a {
	case rules.ActionTerminate, "":
		return "terminate"
	case rules.ActionStopTranscode:
		return "stop transcode"
	case rules.ActionNotify:
		return "notify"
	case rules.ActionLog:
		return "log only"
	}
	return string(a)
}

// parseDuration reads a duration as the admin types it: "30s", "5m",
// "1h30m"; empty is 0.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("“%s” needs a unit: e.g. %ss or %sm", s, s, s)
	}
	d, err := time.ParseDuration(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		return 0, fmt.Errorf("“%s” is not a duration: use e.g. 30s, 5m or 1h30m", s)
	}
	return d, nil
}

// parseWhole reads a whole number; empty is 0.
func parseWhole(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.NewReplacer(" ", "", "_", "").Replace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("“%s” is not a whole number", s)
	}
	return n, nil
}

// parseList reads a list typed with commas or one item a line; empty
// items are dropped and an empty list is nil.
func parseList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ruleFieldIndex maps a Rule field's JSON name to the field.
var ruleFieldIndex = func() map[string][]int {
	m := map[string][]int{}
	t := reflect.TypeFor[rules.Rule]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = f.Index
		}
	}
	return m
}()

// ruleField returns a pointer to the field of r whose JSON name is field
// (*bool, *int, *int64, *string, *[]string, *rules.Duration, …), or nil.
// The editor is built from rules.Kinds()' parameters, which name fields
// this way, so a new parameter needs no change here unless its type is new.
func ruleField(r *rules.Rule, field string) any {
	idx, ok := ruleFieldIndex[field]
	if !ok {
		return nil
	}
	return reflect.ValueOf(r).Elem().FieldByIndex(idx).Addr().Interface()
}

// weekdays are the schedule's day names, Monday first.
var weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// scheduleDays expands a schedule's days ("weekdays", "Monday", "sat")
// into the seven day checks.
func scheduleDays(days []string) map[string]bool {
	on := map[string]bool{}
	for _, d := range days {
		k := strings.ToLower(strings.TrimSpace(d))
		switch k {
		case "weekday", "weekdays":
			for _, w := range weekdays[:5] {
				on[w] = true
			}
			continue
		case "weekend", "weekends":
			on["sat"], on["sun"] = true, true
			continue
		}
		if len(k) > 3 {
			k = k[:3]
		}
		on[k] = true
	}
	return on
}

// listFields are the comma lists of "Applies to" and "Never".
var listFields = []struct {
	key, section, label, help string
	get                       func(*rules.Rule) *[]string
}{
	{"scope.users", "Applies to", "Users", "user names or ids", func(r *rules.Rule) *[]string { return &r.Scope.Users }},
	{"scope.players", "Applies to", "Players", "family (web, roku, …), product, platform, device or name; * wildcards", func(r *rules.Rule) *[]string { return &r.Scope.Players }},
	{"scope.servers", "Applies to", "Servers", "", func(r *rules.Rule) *[]string { return &r.Scope.Servers }},
	{"scope.libraries", "Applies to", "Libraries", "titles or section ids", func(r *rules.Rule) *[]string { return &r.Scope.Libraries }},
	{"scope.mediaTypes", "Applies to", "Media types", "movie, episode, track, clip, photo, livetv, video, music", func(r *rules.Rule) *[]string { return &r.Scope.MediaTypes }},
	{"exempt.users", "Never", "Users", "", func(r *rules.Rule) *[]string { return &r.Exempt.Users }},
	{"exempt.players", "Never", "Players", "", func(r *rules.Rule) *[]string { return &r.Exempt.Players }},
}

// resolutions are the choices of a "resolution" parameter; "" is none.
var resolutions = []string{"8K", "4K", "1440p", "1080p", "720p", "576p", "480p", "SD"}

const anyResolution = "Any (codec only)"

// placeholderHint lists the placeholders of a message.
const placeholderHint = "{user} {title} {player} {platform} {product} {quality} {rule} {reason}"

// ruleEditor edits one draft: its fields in one column, its message, the
// per-player messages and the live message preview in the other. It is
// rebuilt when another rule is selected, and changes the draft in place.
type ruleEditor struct {
	v *rulesView
	d *ruleDraft

	errs     map[string]*widget.Label // inline error under each field, by field key
	errBox   map[string]*fyne.Container
	general  *widget.Label // errors of fields without a label of their own
	form     *fyne.Container
	enabled  *widget.Check
	folds    *widget.Accordion // scope, exemptions, schedule
	name     *widget.Entry
	grace    *widget.Entry
	up, down *widget.Button

	message  *widget.Entry
	msgRows  *fyne.Container
	sessions *widget.Select
	keys     []string // session keys of the select's options, in order
	options  []string
	sample   bool // no live session: the preview uses an example
	rendered *widget.Label
	source   *widget.Label

	content fyne.CanvasObject
}

func newRuleEditor(v *rulesView, d *ruleDraft) *ruleEditor {
	e := &ruleEditor{v: v, d: d, errs: map[string]*widget.Label{}, errBox: map[string]*fyne.Container{}}
	fields := e.buildFields()
	msg := e.buildMessage()
	cols := container.NewHSplit(container.NewVScroll(fields), container.NewVScroll(msg))
	cols.Offset = 0.54
	e.content = cols
	e.setSessions()
	e.showProblem()
	e.renderMessage()
	return e
}

// buildFields is the left column: the buttons on the rule, the kind, then
// the fields by section.
func (e *ruleEditor) buildFields() fyne.CanvasObject {
	v, r := e.v, &e.d.rule
	ki := kindInfo(r.Kind)

	dup := widget.NewButtonWithIcon("Duplicate", theme.ContentCopyIcon(), v.duplicate)
	del := widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), v.confirmDelete)
	e.up = widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() { v.move(-1) })
	e.down = widget.NewButtonWithIcon("", theme.MoveDownIcon(), func() { v.move(+1) })
	e.updateMoves()
	title := widget.NewLabelWithStyle(ki.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Truncation = fyne.TextTruncateEllipsis
	head := container.NewBorder(nil, nil, nil, container.NewHBox(dup, del, e.up, e.down), title)
	e.general = newLabel("", widget.DangerImportance)
	e.general.Wrapping = fyne.TextWrapWord
	e.general.Hide()

	var items []*widget.FormItem
	item := func(label string, w fyne.CanvasObject, hint string) {
		it := widget.NewFormItem(label, w)
		it.HintText = hint
		items = append(items, it)
	}

	// The rule.
	e.name = widget.NewEntry()
	e.name.SetText(r.Name)
	e.name.OnChanged = func(s string) {
		r.Name = s
		e.v.changed()
	}
	item("Name", e.withError("name", e.name), "")
	e.enabled = widget.NewCheck("Enabled", func(on bool) {
		if !e.v.syncing {
			r.Enabled = on
			e.v.changed()
		}
	})
	e.syncEnabled()
	item("", e.enabled, "")
	labels := make([]string, len(actionChoices))
	for i, c := range actionChoices {
		labels[i] = c.label
	}
	action := widget.NewSelect(labels, func(s string) {
		for _, c := range actionChoices {
			if c.label == s && r.Action != c.action {
				r.Action = c.action
				e.v.changed()
			}
		}
	})
	for _, c := range actionChoices {
		if c.action == r.Action || (r.Action == "" && c.action == rules.ActionTerminate) {
			action.Selected = c.label
		}
	}
	item(commonParam("action").Label, e.withError("action", action), "")
	e.grace = e.durationEntry("grace", &r.Grace)
	item(commonParam("grace").Label, e.withError("grace", e.grace), commonParam("grace").Help)

	// The kind's own parameters.
	items = append(items, sectionItem("Matches"))
	for _, p := range ki.Params {
		w, hint := e.paramWidget(p)
		if p.Type == "bool" {
			item("", w, hint)
			continue
		}
		item(p.Label, w, hint)
	}

	// Narrowing switches shared by every kind.
	items = append(items, sectionItem("Only"))
	for _, f := range []string{"onlyTranscodes", "onlyRemote", "fallbackStopTranscode"} {
		p := commonParam(f)
		w, _ := e.paramWidget(rules.Param{Field: f, Label: p.Label, Type: "bool"})
		item("", w, p.Help)
	}

	// Scope, exemptions and schedule are used less: each folds away, its
	// title saying what it holds.
	forms := map[string]*widget.Form{}
	for _, lf := range listFields {
		if forms[lf.section] == nil {
			forms[lf.section] = widget.NewForm()
		}
		it := widget.NewFormItem(lf.label, e.withError(lf.key, e.listEntry(lf.key, lf.get(r), false)))
		it.HintText = lf.help
		forms[lf.section].AppendItem(it)
	}
	forms["Never"].Append("", e.check("Streams on the local network (LAN)", &r.Exempt.LAN))
	e.folds = widget.NewAccordion(
		widget.NewAccordionItem("", forms["Applies to"]),
		widget.NewAccordionItem("", forms["Never"]),
	)
	if r.Kind != rules.KindTimeWindow { // a time window's schedule is among its parameters
		e.folds.Append(widget.NewAccordionItem("", e.scheduleEditor(false)))
	}
	e.folds.MultiOpen = true
	for i, it := range e.folds.Items {
		if foldSummary(r, i) != foldTitles[i]+": "+foldEmpty[i] {
			it.Open = true // the rule uses it: show it
		}
	}
	e.updateFolds()

	desc := newLabel(ki.Description, widget.LowImportance)
	desc.Wrapping = fyne.TextWrapWord
	e.form = container.NewVBox(head, desc, e.general, widget.NewForm(items...), e.folds)
	return e.form
}

// The folding sections of the editor, in order, and their titles when
// empty.
var (
	foldTitles = []string{"Applies to", "Never", commonParam("schedule").Label}
	foldEmpty  = []string{"all sessions", "no exemptions", "always"}
)

// foldSummary is the title of fold i: "Applies to: users, players",
// "Never: users, LAN", "Active: mon–fri 01:00–06:00".
func foldSummary(r *rules.Rule, i int) string {
	var set []string
	switch i {
	case 0, 1:
		for _, lf := range listFields {
			if lf.section == foldTitles[i] && len(*lf.get(r)) > 0 {
				set = append(set, strings.ToLower(lf.label))
			}
		}
		if i == 1 && r.Exempt.LAN {
			set = append(set, "LAN")
		}
	case 2:
		if r.Schedule != nil {
			set = append(set, scheduleText(r.Schedule))
		}
	}
	if len(set) == 0 {
		return foldTitles[i] + ": " + foldEmpty[i]
	}
	return foldTitles[i] + ": " + strings.Join(set, ", ")
}

// scheduleText writes a schedule briefly: "mon, tue 01:00–06:00", "every
// day 22:00–06:00".
func scheduleText(s *rules.Schedule) string {
	days := "every day"
	if len(s.Days) > 0 {
		on := scheduleDays(s.Days)
		var ds []string
		for _, d := range weekdays {
			if on[d] {
				ds = append(ds, d)
			}
		}
		switch {
		case len(ds) == 7:
		case slices.Equal(ds, weekdays[:5]):
			days = "weekdays"
		case slices.Equal(ds, weekdays[5:]):
			days = "weekend"
		default:
			days = strings.Join(ds, " ")
		}
	}
	return days + " " + s.From + "–" + s.To
}

// updateFolds titles the folding sections after their content.
func (e *ruleEditor) updateFolds() {
	if e.folds == nil {
		return
	}
	changed := false
	for i, it := range e.folds.Items {
		if t := foldSummary(&e.d.rule, i); it.Title != t {
			it.Title, changed = t, true
		}
	}
	if changed {
		e.folds.Refresh()
	}
}

// openFoldOf opens the folding section holding field key, so its error
// shows.
func (e *ruleEditor) openFoldOf(key string) {
	i := -1
	switch {
	case strings.HasPrefix(key, "scope."):
		i = 0
	case strings.HasPrefix(key, "exempt."):
		i = 1
	case strings.HasPrefix(key, "schedule") && e.d.rule.Kind != rules.KindTimeWindow:
		i = 2
	}
	if i >= 0 && i < len(e.folds.Items) && !e.folds.Items[i].Open {
		e.folds.Open(i)
	}
}

// sectionItem is a heading between the fields of the form: its title in
// the label column and a line across (a separator alone would fill the
// row's height).
func sectionItem(title string) *widget.FormItem {
	return widget.NewFormItem(title, container.NewVBox(layout.NewSpacer(), widget.NewSeparator(), layout.NewSpacer()))
}

// withError puts the inline error label of a field under its widget.
func (e *ruleEditor) withError(key string, w fyne.CanvasObject) fyne.CanvasObject {
	l := newLabel("", widget.DangerImportance)
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	box := container.NewVBox(w, l)
	e.errs[key], e.errBox[key] = l, box
	return box
}

// showProblem shows the draft's problem at its field, or above the form
// when the field has no place of its own.
func (e *ruleEditor) showProblem() {
	p := e.d.problem
	shown := ""
	if p != nil {
		shown = p.field
		if _, ok := e.errs[shown]; !ok {
			if k, _, _ := strings.Cut(shown, "."); e.errs[k] != nil {
				shown = k
			} else {
				shown = ""
			}
		}
	}
	if shown != "" {
		e.openFoldOf(shown)
	}
	changed := false
	for k, l := range e.errs {
		show := p != nil && k == shown && p.field != ""
		if show {
			setText(l, p.text)
		}
		changed = setVisible(l, e.errBox[k], show) || changed
	}
	general := p != nil && shown == ""
	if general {
		text := p.text
		if p.field != "" {
			text = fieldLabel(e.d.rule.Kind, p.field) + ": " + text
		}
		setText(e.general, text)
	}
	changed = setVisible(e.general, e.form, general) || changed
	if changed {
		e.form.Refresh()
	}
}

func (e *ruleEditor) syncEnabled() {
	e.v.syncing = true
	e.enabled.SetChecked(e.d.rule.Enabled)
	e.v.syncing = false
}

// updateMoves enables the move buttons that can move the rule.
func (e *ruleEditor) updateMoves() {
	if e.v.sel > 0 {
		e.up.Enable()
	} else {
		e.up.Disable()
	}
	if e.v.sel >= 0 && e.v.sel < len(e.v.drafts)-1 {
		e.down.Enable()
	} else {
		e.down.Disable()
	}
}

// textEntry is an entry whose text parse turns into the draft; text that
// does not parse is kept with the reason (the draft keeps its last good
// value) and shown under the field.
func (e *ruleEditor) textEntry(key, text string, parse func(string) error) *widget.Entry {
	en := widget.NewEntry()
	if raw, ok := e.d.raw[key]; ok {
		text = raw
	}
	en.SetText(text)
	en.OnChanged = func(s string) {
		if err := parse(s); err != nil {
			e.d.raw[key], e.d.bad[key] = s, sentence(err.Error())
		} else {
			delete(e.d.raw, key)
			delete(e.d.bad, key)
		}
		e.v.changed()
	}
	return en
}

func (e *ruleEditor) durationEntry(key string, d *rules.Duration) *widget.Entry {
	en := e.textEntry(key, words.ShortDuration(d.Std()), func(s string) error {
		v, err := parseDuration(s)
		if err == nil {
			*d = rules.Duration(v)
		}
		return err
	})
	en.SetPlaceHolder("0s")
	return en
}

// listEntry edits a list as "a, b, c" (or one item a line when multiLine).
func (e *ruleEditor) listEntry(key string, list *[]string, multiLine bool) *widget.Entry {
	sep := ", "
	if multiLine {
		sep = "\n"
	}
	en := e.textEntry(key, strings.Join(*list, sep), func(s string) error {
		*list = parseList(s)
		return nil
	})
	if multiLine {
		en.MultiLine = true
		en.SetMinRowsVisible(3)
	}
	return en
}

func (e *ruleEditor) check(label string, b *bool) *widget.Check {
	c := widget.NewCheck(label, nil)
	c.SetChecked(*b)
	c.OnChanged = func(on bool) {
		*b = on
		e.v.changed()
	}
	return c
}

// choice is a select whose labels stand for values.
func (e *ruleEditor) choice(labels, values []string, cur *string) *widget.Select {
	s := widget.NewSelect(labels, nil)
	for i, val := range values {
		if val == *cur {
			s.Selected = labels[i]
		}
	}
	if s.Selected == "" && *cur != "" { // a value from the file the editor does not offer
		s.Options = append(s.Options, *cur)
		labels, values = append(labels, *cur), append(values, *cur)
		s.Selected = *cur
	}
	s.OnChanged = func(l string) {
		if i := slices.Index(labels, l); i >= 0 {
			*cur = values[i]
			e.v.changed()
		}
	}
	return s
}

// paramWidget builds the editor of one parameter by its type, and its hint.
func (e *ruleEditor) paramWidget(p rules.Param) (fyne.CanvasObject, string) {
	r := &e.d.rule
	ptr := ruleField(r, p.Field)
	hint := p.Help
	var w fyne.CanvasObject
	switch f := ptr.(type) {
	case *bool:
		w = e.check(p.Label, f)
	case *int:
		w = e.textEntry(p.Field, zeroEmpty(int64(*f)), func(s string) error {
			n, err := parseWhole(s)
			if err == nil {
				*f = int(n)
			}
			return err
		})
	case *int64:
		w = e.textEntry(p.Field, zeroEmpty(*f), func(s string) error {
			n, err := parseWhole(s)
			if err == nil {
				*f = n
			}
			return err
		})
		if p.Type == "kbps" && hint == "" {
			hint = "kilobits per second: 20000 is 20 Mbps"
		}
	case *rules.Duration:
		w = e.durationEntry(p.Field, f)
	case *[]string:
		w = e.listEntry(p.Field, f, p.Type == "networks")
		if hint == "" {
			switch p.Type {
			case "networks":
				hint = "IP addresses or CIDRs, one a line or with commas"
			case "codecs":
				hint = "e.g. hevc, av1, vp9"
			}
		}
	case *string:
		switch p.Type {
		case "resolution":
			w = e.choice(append([]string{anyResolution}, resolutions...), append([]string{""}, resolutions...), f)
		case "pick":
			w = e.choice([]string{"the newest streams", "the oldest streams"}, []string{rules.PickNewest, rules.PickOldest}, f)
			if *f == "" {
				w.(*widget.Select).Selected = "the newest streams"
			}
		case "condition":
			w = e.choice([]string{"Transcode storm", "Client-identifier collision"}, []string{rules.ConditionStorm, rules.ConditionCollision}, f)
		default:
			en := widget.NewEntry()
			en.SetText(*f)
			en.OnChanged = func(s string) {
				*f = s
				e.v.changed()
			}
			w = en
		}
	case **rules.Schedule:
		return e.withError(p.Field, e.scheduleEditor(true)), hint
	default:
		return newLabel("Edit this setting in "+rules.FileName+".", widget.LowImportance), hint
	}
	if p.Type == "bool" {
		return w, hint
	}
	return e.withError(p.Field, w), hint
}

func zeroEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// scheduleEditor edits the rule's schedule: the days and the hours. When
// required (a time window) it is always on; otherwise a check switches it.
func (e *ruleEditor) scheduleEditor(required bool) fyne.CanvasObject {
	r := &e.d.rule
	if r.Schedule == nil && required {
		r.Schedule = &rules.Schedule{}
	}
	cur := r.Schedule
	if cur == nil {
		cur = e.d.lastSchedule
	}
	if cur == nil {
		cur = &rules.Schedule{From: "01:00", To: "06:00"}
	}
	on := scheduleDays(cur.Days)
	// The widgets edit sched; it is the rule's schedule while switched on.
	sched := &rules.Schedule{From: cur.From, To: cur.To, Days: slices.Clone(cur.Days)}
	if r.Schedule != nil {
		r.Schedule = sched
	}

	var dayChecks []fyne.CanvasObject
	for _, day := range weekdays {
		c := widget.NewCheck(strings.ToUpper(day[:1])+day[1:], nil)
		c.SetChecked(on[day])
		c.OnChanged = func(b bool) {
			on[day] = b
			sched.Days = nil
			for _, w := range weekdays {
				if on[w] {
					sched.Days = append(sched.Days, w)
				}
			}
			e.v.changed()
		}
		dayChecks = append(dayChecks, c)
	}
	clock := func(key string, s *string) *widget.Entry {
		en := widget.NewEntry()
		en.SetText(*s)
		en.SetPlaceHolder("HH:MM")
		en.OnChanged = func(t string) {
			*s = strings.TrimSpace(t)
			e.v.changed()
		}
		return en
	}
	from, to := clock("schedule.from", &sched.From), clock("schedule.to", &sched.To)
	hours := container.NewHBox(widget.NewLabel("from"), container.NewGridWrap(fyne.NewSize(80, from.MinSize().Height), from),
		widget.NewLabel("to"), container.NewGridWrap(fyne.NewSize(80, to.MinSize().Height), to))
	note := newLabel("No day ticked: every day. From = to: the whole day.", widget.LowImportance)
	note.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(container.NewGridWithColumns(4, dayChecks...), hours, note)
	if required {
		return body
	}

	toggle := widget.NewCheck("Only at certain times", nil)
	toggle.SetChecked(r.Schedule != nil)
	if r.Schedule == nil {
		body.Hide()
	}
	box := container.NewVBox(toggle, body)
	toggle.OnChanged = func(b bool) {
		if b {
			r.Schedule = sched
		} else {
			e.d.lastSchedule, r.Schedule = sched, nil
		}
		setVisible(body, box, b)
		e.folds.Refresh()
		e.v.changed()
	}
	return e.withError("schedule", box)
}

// buildMessage is the right column: the message template, the per-player
// messages and the live preview on a session.
func (e *ruleEditor) buildMessage() fyne.CanvasObject {
	r := &e.d.rule
	ki := kindInfo(r.Kind)
	head := widget.NewLabelWithStyle(commonParam("message").Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	hint := newLabel(placeholderHint+" · empty: the default shown", widget.LowImportance)
	hint.Wrapping = fyne.TextWrapWord

	e.message = widget.NewMultiLineEntry()
	e.message.Wrapping = fyne.TextWrapWord
	e.message.SetMinRowsVisible(3)
	e.message.SetPlaceHolder(ki.DefaultMessage)
	e.message.SetText(r.Message)
	e.message.OnChanged = func(s string) {
		r.Message = s
		e.v.changed()
	}

	perHead := widget.NewLabelWithStyle(commonParam("messages").Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	families := make([]string, len(rules.PlayerFamilies))
	for i, f := range rules.PlayerFamilies {
		families[i] = f.Key
	}
	perHint := newLabel("For a player family ("+strings.Join(families[:6], ", ")+", …) or an exact product such as “Plex for Xbox”.", widget.LowImportance)
	perHint.Wrapping = fyne.TextWrapWord
	e.msgRows = container.NewVBox()
	e.rebuildMsgRows()
	addMsg := widget.NewButtonWithIcon("Add player message", theme.ContentAddIcon(), func() {
		e.d.msgs = append(e.d.msgs, msgRow{})
		e.rebuildMsgRows()
	})

	prevHead := widget.NewLabelWithStyle("The viewer sees", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	e.sessions = widget.NewSelect(nil, func(string) { e.renderMessage() })
	e.rendered = widget.NewLabel("")
	e.rendered.Wrapping = fyne.TextWrapWord
	e.rendered.Selectable = true
	// One line: a wrapped label keeps the height of its first, narrower
	// layout until its text changes.
	e.source = newLabel("", widget.LowImportance)
	e.source.Truncation = fyne.TextTruncateEllipsis
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	rendered := container.NewStack(bg, e.rendered)

	return container.NewVBox(head, hint, e.withError("message", e.message),
		prevHead, e.sessions, rendered, e.source,
		widget.NewSeparator(), perHead, perHint, e.withError("messages", e.msgRows), container.NewHBox(addMsg))
}

// rebuildMsgRows shows the per-player messages, one row each: the player
// key (a family to pick, or any product typed), the template and a remove
// button.
func (e *ruleEditor) rebuildMsgRows() {
	e.msgRows.RemoveAll()
	families := make([]string, len(rules.PlayerFamilies))
	for i, f := range rules.PlayerFamilies {
		families[i] = f.Key
	}
	for i := range e.d.msgs {
		row := &e.d.msgs[i]
		key := widget.NewSelectEntry(families)
		key.SetPlaceHolder("player")
		key.SetText(row.key)
		key.OnChanged = func(s string) {
			row.key = s
			e.d.rule.Messages = messagesMap(e.d.msgs)
			e.v.changed()
		}
		text := widget.NewEntry()
		text.SetPlaceHolder("Message for these players")
		text.SetText(row.text)
		text.OnChanged = func(s string) {
			row.text = s
			e.d.rule.Messages = messagesMap(e.d.msgs)
			e.v.changed()
		}
		// The closures hold row i of the current slice; adding or removing
		// a row rebuilds them all.
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			e.d.msgs = slices.Delete(e.d.msgs, i, i+1)
			e.d.rule.Messages = messagesMap(e.d.msgs)
			e.rebuildMsgRows()
			e.v.changed()
		})
		remove.Importance = widget.LowImportance
		keyBox := container.NewGridWrap(fyne.NewSize(130, key.MinSize().Height), key)
		e.msgRows.Add(container.NewBorder(nil, nil, keyBox, remove, text))
	}
	if e.form != nil {
		e.msgRows.Refresh()
	}
}

// exampleSession stands in for a live session in the message preview when
// nothing plays.
func exampleSession() app.Session {
	return app.Session{
		Server: "Home", User: "alice", Title: "The Matrix", Type: "movie", Library: "Movies", State: "playing",
		Player:   app.Player{Title: "Alice’s laptop", Product: "Plex Web", Platform: "Chrome", Device: "Windows"},
		Decision: plex.Transcode, VideoDecision: "transcode", AudioDecision: "copy", VideoTranscode: true, TranscodeKey: "example",
		SourceResolution: "4K", SourceHeight: 2160, SourceVideoCodec: "hevc", TargetResolution: "1080p", TargetVideoCodec: "h264",
		Location: "wan", BandwidthKbps: 12000, BitrateKbps: 40000,
	}
}

// sessionLabel names a session in the preview's select: "bob · Severance ·
// Plex for Roku", with the server when there are several.
func sessionLabel(s *app.Session, withServer bool) string {
	l := joinDot(s.User, truncate(s.Title, 32), s.Player.Product)
	if withServer {
		l += " — " + s.Server
	}
	return l
}

// setSessions offers the live sessions of the latest state in the
// preview's select, keeping the selected one by key.
func (e *ruleEditor) setSessions() {
	st := e.v.u.state
	sessions := st.Sessions()
	sortSessions(sessions, sortOrder{})
	var keys, labels []string
	seen := map[string]int{}
	for i := range sessions {
		l := sessionLabel(&sessions[i], len(st.Servers) > 1)
		if seen[l]++; seen[l] > 1 {
			l += fmt.Sprintf(" (%d)", seen[l])
		}
		keys, labels = append(keys, sessions[i].Key()), append(labels, l)
	}
	selKey := ""
	if i := slices.Index(e.options, e.sessions.Selected); i >= 0 {
		selKey = e.keys[i]
	}
	e.keys = keys
	if !slices.Equal(labels, e.options) {
		e.options = labels
		e.sessions.SetOptions(labels)
	}
	e.sample = len(keys) == 0
	switch {
	case e.sample:
		e.sessions.PlaceHolder = "No live session: an example is shown"
		e.sessions.ClearSelected()
		e.sessions.Disable()
	default:
		e.sessions.PlaceHolder = "Choose a live session"
		e.sessions.Enable()
		i := slices.Index(keys, selKey)
		if i < 0 {
			i = 0
		}
		if e.sessions.Selected != labels[i] {
			e.sessions.SetSelected(labels[i]) // renders
			return
		}
	}
	e.sessions.Refresh()
	e.renderMessage()
}

// previewSession is the session the message preview renders for.
func (e *ruleEditor) previewSession() app.Session {
	if i := slices.Index(e.options, e.sessions.Selected); i >= 0 && !e.sample {
		if s, ok := e.v.u.lookup(e.keys[i]); ok {
			return s
		}
	}
	return exampleSession()
}

// renderMessage shows the message the rule would send to the chosen
// session, as typed so far.
func (e *ruleEditor) renderMessage() {
	if e.rendered == nil {
		return
	}
	s := e.previewSession()
	r := e.d.rule
	setText(e.rendered, displayArrows(rules.RenderMessage(r, s)))
	src := messageSource(r, s)
	switch r.Action {
	case rules.ActionStopTranscode:
		src = "Stop transcode sends no message: the player just stops."
	case rules.ActionLog:
		src = strings.TrimSuffix(src, ".") + " · log only: nothing is sent."
	case rules.ActionNotify:
		src = strings.TrimSuffix(src, ".") + " · notify only: nothing is sent."
	}
	setText(e.source, src)
}

// messageSource says which template applies to s: a per-player message
// (exact product, platform or device first, then the family), the rule's
// message or the kind's default, as rules.RenderMessage picks it.
func messageSource(r rules.Rule, s app.Session) string {
	keys := slices.Sorted(maps.Keys(r.Messages))
	for _, v := range []string{s.Player.Product, s.Player.Platform, s.Player.Device} {
		for _, k := range keys {
			if v != "" && strings.EqualFold(strings.TrimSpace(k), v) {
				return "Uses the message for “" + k + "”."
			}
		}
	}
	fam := rules.PlayerFamily(s.Player)
	for _, k := range keys {
		if strings.EqualFold(strings.TrimSpace(k), fam) {
			return "Uses the message for “" + k + "” players."
		}
	}
	if strings.TrimSpace(r.Message) != "" {
		return "Uses the rule's message."
	}
	return "Uses the default message."
}

// previewPane is the bottom of the tab: what the rules as edited would do
// to the live sessions right now.
type previewPane struct {
	items []rules.PreviewItem
	done  map[string]bool // rule + session key: the engine already acted

	head  *widget.Label
	count *widget.Label
	note  *widget.Label
	table *widget.Table
	empty *widget.Label
	area  *fyne.Container
	top   *fyne.Container

	content fyne.CanvasObject
}

// pvColumn is a column of the preview table.
type pvColumn int

const (
	pvRule pvColumn = iota
	pvWho
	pvAction
	pvMessage
	pvReason
	pvNotes
	numPVColumns
)

var pvTitles = [numPVColumns]string{"Rule", "User · title", "Action", "Message", "Reason", "Notes"}

// pvWidths fit the default window (1092 px inside, 4 px between columns).
var pvWidths = [numPVColumns]float32{150, 200, 110, 320, 150, 130}

func newPreviewPane(v *rulesView) *previewPane {
	p := &previewPane{}
	p.head = widget.NewLabelWithStyle("Would act now", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.count = newLabel("", widget.LowImportance)
	p.note = widget.NewLabel("")
	p.note.Wrapping = fyne.TextWrapWord
	p.note.Hide()
	p.table = &widget.Table{
		Length:        func() (int, int) { return len(p.items), int(numPVColumns) },
		CreateCell:    func() fyne.CanvasObject { return newTableCell() },
		UpdateCell:    p.updateCell,
		ShowHeaderRow: true,
		CreateHeader:  func() fyne.CanvasObject { return newTableCell() },
		UpdateHeader: func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Col >= 0 && id.Col < int(numPVColumns) {
				o.(*tableCell).set(pvTitles[id.Col], false)
			}
		},
		OnSelected: func(id widget.TableCellID) { p.onSelected(v, id) },
	}
	p.table.ExtendBaseWidget(p.table)
	for c, w := range pvWidths {
		p.table.SetColumnWidth(c, w)
	}
	p.empty = newLabel("", widget.LowImportance)
	p.empty.Alignment = fyne.TextAlignCenter
	p.area = container.NewStack(p.table, container.NewCenter(p.empty))
	p.top = container.NewVBox(container.NewBorder(nil, nil, p.head, p.count), p.note)
	p.content = container.NewBorder(container.NewVBox(widget.NewSeparator(), p.top), nil, nil, nil, p.area)
	return p
}

// refresh evaluates the rules as edited against the latest state. Rules
// with a problem are left out (and said so); Evaluate is pure and cheap.
func (p *previewPane) refresh(v *rulesView) {
	f := v.file()
	var valid []rules.Rule
	var notes []string
	diagRules := false
	for i, d := range v.drafts {
		if d.problem != nil {
			notes = append(notes, fmt.Sprintf("“%s” is left out until its error is fixed.", d.rule.Name))
			continue
		}
		if d.rule.Enabled && d.rule.Kind == rules.KindDiagnostic {
			diagRules = true
		}
		valid = append(valid, f.Rules[i])
	}
	f.Rules = valid
	items, err := rules.EvaluateWith(f, v.u.state, v.u.now(), nil)
	if err != nil {
		notes = append(notes, "Cannot preview: "+err.Error())
	}
	p.items = items
	p.done = map[string]bool{}
	for _, it := range v.b.Preview(v.u.state) {
		if it.Done {
			p.done[it.Rule+"\x00"+it.Session.Key()] = true
		}
	}
	if diagRules {
		notes = append(notes, "Storm and collision rules are not previewed: they act on what Diagnostics detects.")
	}
	if v.u.b.RulesPaused() {
		notes = append([]string{"Rules are paused: nothing acts until you resume them."}, notes...)
	}
	imp := widget.LowImportance
	if v.u.b.RulesPaused() {
		imp = widget.WarningImportance
	}
	p.note.Importance = imp
	setText(p.note, strings.Join(notes, " "))
	setVisible(p.note, p.top, len(notes) > 0)

	switch n := len(items); {
	case n == 0:
		setText(p.count, "")
	case f.DryRun:
		setText(p.count, words.Plural(n, "action", "actions")+" · dry run: nothing would be sent")
	default:
		setText(p.count, words.Plural(n, "action", "actions"))
	}
	enabled := slices.ContainsFunc(f.Rules, func(r rules.Rule) bool { return r.Enabled })
	switch {
	case !enabled:
		setText(p.empty, "No rule is enabled.")
	case len(v.u.state.Sessions()) == 0:
		setText(p.empty, "Nothing is playing: no rule would act.")
	default:
		setText(p.empty, "No live session matches an enabled rule.")
	}
	p.table.Refresh()
	setVisible(p.table, p.area, len(items) > 0)
	setVisible(p.empty, p.area, len(items) == 0)
}

func (p *previewPane) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	c := o.(*tableCell)
	if id.Row < 0 || id.Row >= len(p.items) || id.Col < 0 || id.Col >= int(numPVColumns) {
		c.set("", false)
		return
	}
	it := &p.items[id.Row]
	c.set(previewCellText(it, pvColumn(id.Col), p.done[it.Rule+"\x00"+it.Session.Key()]), false)
}

// previewCellText is one cell of the preview table.
func previewCellText(it *rules.PreviewItem, c pvColumn, done bool) string {
	switch c {
	case pvRule:
		return it.Rule
	case pvWho:
		return joinDot(it.Session.User, it.Session.Title)
	case pvAction:
		return actionShort(it.Action)
	case pvMessage:
		if it.Action == rules.ActionStopTranscode {
			return "(no message)"
		}
		return displayArrows(it.Message)
	case pvReason:
		return displayArrows(it.Reason)
	case pvNotes:
		return previewNotes(it, done)
	}
	return ""
}

// previewNotes are the flags of a preview item: "dry run", "after 30s",
// "already acted".
func previewNotes(it *rules.PreviewItem, done bool) string {
	var notes []string
	if done {
		notes = append(notes, "already acted")
	}
	if it.DryRun {
		notes = append(notes, "dry run")
	}
	if it.Grace > 0 {
		notes = append(notes, "after "+words.ShortDuration(it.Grace))
	}
	return strings.Join(notes, ", ")
}

// onSelected shows the item's rule in the editor with its session in the
// message preview, where the whole message can be read.
func (p *previewPane) onSelected(v *rulesView, id widget.TableCellID) {
	if id.Row < 0 || id.Row >= len(p.items) {
		return
	}
	it := p.items[id.Row]
	p.table.UnselectAll()
	for i, d := range v.drafts {
		if d.rule.Name == it.Rule {
			v.selectDraft(i)
			break
		}
	}
	if e := v.editor; e != nil {
		if i := slices.Index(e.keys, it.Session.Key()); i >= 0 {
			e.sessions.SetSelected(e.options[i])
		}
	}
}
