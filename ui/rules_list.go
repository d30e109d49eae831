// The list of rules on the left of the Rules tab and its actions: add,
// duplicate, delete, move, revert.

package ui

import (
	"context"
	"maps"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/rules"
)

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

// setEnabled switches a rule on or off from its row or the editor. The
// switch takes effect at once: a rule in force is saved with only its
// switch changed (the rules engine applies it; other edits stay drafts).
// A rule added since the last Save is a draft until Save.
func (v *rulesView) setEnabled(d *ruleDraft, on bool) {
	d.rule.Enabled = on
	if v.editor != nil && v.editor.d == d {
		v.editor.syncEnabled()
	}
	if i := slices.IndexFunc(v.saved.Rules, func(r rules.Rule) bool { return d.inForce != "" && r.Name == d.inForce }); i >= 0 &&
		v.saved.Rules[i].Enabled != on {
		f := v.saved
		f.Rules = slices.Clone(f.Rules)
		f.Rules[i].Enabled = on
		v.saved = f
		defer v.writeSaved() // after the UI is updated (tests run fyne.Do on the saving goroutine)
	}
	v.changed()
}

// writeSaved saves the rules in force (v.saved) off the UI goroutine,
// one write at a time; switches flipped during a write are saved after
// it, so the file ends with the last state.
func (v *rulesView) writeSaved() {
	if v.writing {
		v.rewrite = true
		return
	}
	v.writing = true
	f := v.saved
	v.u.background(0, func(context.Context) func() {
		err := v.b.SetRules(f)
		return func() {
			v.writing = false
			if err != nil {
				v.showSaveError(err)
				return
			}
			v.fileErr = nil // the file was replaced
			if v.rewrite {
				v.rewrite = false
				v.writeSaved()
			}
		}
	})
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
	r := rules.DefaultRule(k, v.uniqueName(rules.KindName(k)))
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
	v.u.showDialog(dialog.NewConfirm("Delete rule", "Delete “"+d.rule.Name+"”? It stays in force until you save.", func(ok bool) {
		if ok {
			v.deleteDraft(d)
		}
	}, v.u.win))
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
