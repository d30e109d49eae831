// The editor of one rule: its form, folding sections and inline errors.

package ui

import (
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/rules"
)

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
	e.content = container.NewHScroll(cols) // scrolls sideways only in a narrow window (800 px)
	e.setSessions()
	e.showProblem()
	e.renderMessage()
	return e
}

// buildFields is the left column: the buttons on the rule, the kind, then
// the fields by section.
func (e *ruleEditor) buildFields() fyne.CanvasObject {
	ki := kindInfo(e.d.rule.Kind)
	head := e.buildHead(ki)
	e.general = newLabel("", widget.DangerImportance)
	e.general.Wrapping = fyne.TextWrapWord
	e.general.Hide()

	items := e.ruleItems()
	items = append(items, e.paramItems(ki)...)
	e.buildFolds()

	desc := newLabel(ki.Description, widget.LowImportance)
	desc.Wrapping = fyne.TextWrapWord
	e.form = container.NewVBox(head, desc, e.general, widget.NewForm(items...), e.folds)
	return e.form
}

// buildHead is the kind's name with the buttons on the rule.
func (e *ruleEditor) buildHead(ki rules.KindInfo) fyne.CanvasObject {
	v := e.v
	dup := widget.NewButtonWithIcon("Duplicate", theme.ContentCopyIcon(), v.duplicate)
	del := widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), v.confirmDelete)
	e.up = widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() { v.move(-1) })
	e.down = widget.NewButtonWithIcon("", theme.MoveDownIcon(), func() { v.move(+1) })
	e.updateMoves()
	title := widget.NewLabelWithStyle(ki.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, nil, container.NewHBox(dup, del, e.up, e.down), title)
}

// longHint is the length (in runes) past which a hint wraps under its
// field instead of being the form's one-line hint text, which would widen
// the editor's column past an 800 px window.
const longHint = 80

// formItem is a row of the editor's form with its hint.
func formItem(label string, w fyne.CanvasObject, hint string) *widget.FormItem {
	if utf8.RuneCountInString(hint) > longHint {
		h := newLabel(hint, widget.LowImportance)
		h.Wrapping = fyne.TextWrapWord
		h.SizeName = theme.SizeNameCaptionText
		return widget.NewFormItem(label, container.NewVBox(w, h))
	}
	it := widget.NewFormItem(label, w)
	it.HintText = hint
	return it
}

// ruleItems are the fields of the rule itself: name, enabled, action and
// grace.
func (e *ruleEditor) ruleItems() []*widget.FormItem {
	r := &e.d.rule
	e.name = widget.NewEntry()
	e.name.SetText(r.Name)
	e.name.OnChanged = func(s string) {
		r.Name = s
		e.v.changed()
	}
	e.enabled = widget.NewCheck("Enabled", func(on bool) {
		if !e.v.syncing {
			e.v.setEnabled(e.d, on)
		}
	})
	e.syncEnabled()
	e.grace = e.durationEntry("grace", &r.Grace)
	items := []*widget.FormItem{
		formItem("Name", e.withError("name", e.name), ""),
		formItem("", e.enabled, ""),
		formItem(commonParam("action").Label, e.withError("action", e.actionSelect()), ""),
		formItem(commonParam("grace").Label, e.withError("grace", e.grace), commonParam("grace").Help),
	}
	for _, f := range []string{"coolDown", "coolDownScope"} { // the cool-down follows the action
		p := commonParam(f)
		w, hint := e.paramWidget(p)
		items = append(items, formItem(p.Label, w, hint))
	}
	return items
}

// actionSelect picks the rule's action among rules.Actions().
func (e *ruleEditor) actionSelect() *widget.Select {
	r := &e.d.rule
	actions := rules.Actions()
	labels := make([]string, len(actions))
	for i, c := range actions {
		labels[i] = c.Label
	}
	action := widget.NewSelect(labels, func(s string) {
		for _, c := range actions {
			if c.Label == s && r.Action != c.Action {
				r.Action = c.Action
				e.v.changed()
			}
		}
	})
	for _, c := range actions {
		if c.Action == r.Action || (r.Action == "" && c.Action == rules.ActionTerminate) {
			action.Selected = c.Label
		}
	}
	return action
}

// paramItems are the kind's own parameters ("Matches") and the narrowing
// switches shared by every kind ("Only").
func (e *ruleEditor) paramItems(ki rules.KindInfo) []*widget.FormItem {
	items := []*widget.FormItem{sectionItem("Matches")}
	for _, p := range ki.Params {
		w, hint := e.paramWidget(p)
		label := p.Label
		if p.Type == rules.ParamBool {
			label = "" // the check carries it
		}
		items = append(items, formItem(label, w, hint))
	}
	items = append(items, sectionItem("Only"))
	for _, f := range []string{"onlyTranscodes", "onlyRemote", "fallbackStopTranscode"} {
		p := commonParam(f)
		w, _ := e.paramWidget(rules.Param{Field: f, Label: p.Label, Type: rules.ParamBool})
		items = append(items, formItem("", w, p.Help))
	}
	return items
}

// buildFolds builds scope, exemptions and schedule, which are used less:
// each folds away, its title saying what it holds, and opens when the rule
// uses it.
func (e *ruleEditor) buildFolds() {
	r := &e.d.rule
	forms := map[string]*widget.Form{}
	for _, lf := range rules.ListFields {
		l := listField(r, lf.Field)
		if l == nil {
			continue
		}
		if forms[lf.Section] == nil {
			forms[lf.Section] = widget.NewForm()
		}
		var w fyne.CanvasObject = e.listEntry(lf.Field, l, false)
		if lf.Type == rules.ParamDevices {
			w = e.devicesField(w.(*widget.Entry))
		}
		forms[lf.Section].AppendItem(formItem(lf.Label, e.withError(lf.Field, w), lf.Help))
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
