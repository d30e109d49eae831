// The Rules tab: its switches, status and Save (the list is in
// rules_list.go, the editor in rules_editor.go, the dry-run preview in
// rules_preview.go).

package ui

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/rules"
)

// RulesBackend reads, saves and previews the automatic rules for the Rules
// tab; the desktop app implements it over its rules engine, tests fake it.
// Every method must return quickly except SetRules and LiftBlock, which
// write files and are called off the UI goroutine.
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
	// Blocks lists the cool-downs in force, soonest to end first.
	Blocks() []rules.Block
	// LiftBlock ends every cool-down of user and says how many it ended;
	// it saves the engine's state, so it is called off the UI goroutine.
	LiftBlock(user string) (int, error)
	// Usage lists the quota time counted in the current periods.
	Usage() []rules.QuotaUsage
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
	writing   bool // an enable switch is being saved
	rewrite   bool // another switch flipped meanwhile: save again
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

func newRulesView(u *UI, b RulesBackend) *rulesView {
	v := &rulesView{u: u, b: b, sel: -1}

	v.paused = widget.NewCheck("Pause all rules", func(on bool) {
		if !v.syncing {
			v.u.setRulesPaused(on)
			v.u.updatePaused()
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
	v.status.Truncation = fyne.TextTruncateEllipsis // the window may be 800 px wide
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
		d := newDraft(r)
		d.inForce = r.Name
		v.drafts = append(v.drafts, d)
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
	v.u.background(0, func(context.Context) func() {
		err := v.b.SetRules(f)
		return func() {
			v.saving = false
			if err != nil {
				v.showSaveError(err)
				return
			}
			v.saved = f
			for _, d := range v.drafts {
				d.inForce = d.rule.Name
			}
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
		}
	})
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
