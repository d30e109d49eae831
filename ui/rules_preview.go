// The dry-run preview pane: what the rules as edited would do now.

package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/internal/words"
)

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
	// blocks are the cool-downs and quota usage, under the table.
	blocks *blocksPane

	content *fyne.Container
}

// previewColumns are the preview table's columns; the widths fit the
// default window (1092 px inside, 4 px between columns).
func previewColumns(p *previewPane) []*column[rules.PreviewItem] {
	return []*column[rules.PreviewItem]{
		{title: "Rule", width: 150, text: func(it *rules.PreviewItem, _ cellEnv) string { return it.Rule }},
		{title: "User · title", width: 200, text: func(it *rules.PreviewItem, _ cellEnv) string { return joinDot(it.Session.User, it.Session.Title) }},
		{title: "Action", width: 110, text: func(it *rules.PreviewItem, _ cellEnv) string { return rules.ActionShort(it.Action) }},
		{title: "Message", width: 320, text: func(it *rules.PreviewItem, _ cellEnv) string { return previewMessage(it) }},
		{title: "Reason", width: 150, text: func(it *rules.PreviewItem, _ cellEnv) string { return displayArrows(it.Reason) }},
		{title: "Notes", width: 130, text: func(it *rules.PreviewItem, _ cellEnv) string {
			return previewNotes(it, p.done[it.Rule+"\x00"+it.Session.Key()])
		}},
	}
}

func newPreviewPane(v *rulesView) *previewPane {
	p := &previewPane{}
	p.head = widget.NewLabelWithStyle("Would act now", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.count = newLabel("", widget.LowImportance)
	// One note a line, cut with "…" rather than wrapped: a wrapped label
	// reports the height of its last width, so at 800 px it overlapped the
	// table's header.
	p.note = widget.NewLabel("")
	p.note.Truncation = fyne.TextTruncateEllipsis
	p.note.Hide()
	grid := newDataTable(func() []rules.PreviewItem { return p.items }, previewColumns(p), nil)
	p.table = grid.build(func(id widget.TableCellID) { p.onSelected(v, id) })
	p.empty = newLabel("", widget.LowImportance)
	p.empty.Alignment = fyne.TextAlignCenter
	p.area = grid.stack(container.NewCenter(p.empty))
	p.top = container.NewVBox(container.NewBorder(nil, nil, p.head, p.count), p.note)
	p.blocks = newBlocksPane()
	p.content = container.NewBorder(container.NewVBox(widget.NewSeparator(), p.top), p.blocks.content, nil, nil, p.area)
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
	h := p.note.MinSize().Height
	setText(p.note, strings.Join(notes, "\n"))
	// The tab's Border places the table under the notes by their height
	// when it was laid out: lay it out again when that height changes.
	if setVisible(p.note, p.top, len(notes) > 0) || p.note.MinSize().Height != h {
		p.content.Refresh()
	}

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
	p.blocks.refresh(v)
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
