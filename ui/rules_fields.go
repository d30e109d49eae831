// The field widgets of the rule editor, one per parameter type.

package ui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/rules"
	"github.com/plexwarden/plexwarden/internal/words"
)

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
	ptr := rules.RuleField(r, p.Field)
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
	case *rules.Duration:
		w = e.durationEntry(p.Field, f)
	case *[]string:
		w = e.listEntry(p.Field, f, p.Type == rules.ParamNetworks)
	case *string:
		w = e.stringWidget(p, f)
	case **rules.Schedule:
		return e.withError(p.Field, e.scheduleEditor(true)), hint
	default:
		return newLabel("Edit this setting in "+rules.FileName+".", widget.LowImportance), hint
	}
	if p.Type == rules.ParamBool {
		return w, hint
	}
	return e.withError(p.Field, w), hint
}

// stringWidget edits a text parameter: a select of its choices (the rules
// offer them for resolution, pick, condition, …), else an entry.
func (e *ruleEditor) stringWidget(p rules.Param, f *string) fyne.CanvasObject {
	if len(p.Choices) == 0 {
		en := widget.NewEntry()
		en.SetText(*f)
		en.OnChanged = func(s string) {
			*f = s
			e.v.changed()
		}
		return en
	}
	labels, values := make([]string, len(p.Choices)), make([]string, len(p.Choices))
	for i, c := range p.Choices {
		labels[i], values[i] = c.Label, c.Value
	}
	s := e.choice(labels, values, f)
	if *f == "" && (p.Type == rules.ParamPick || p.Type == rules.ParamPeriod || p.Type == rules.ParamCoolDownScope) {
		s.Selected = labels[0] // the engine's default
	}
	return s
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
	on := rules.ExpandDays(cur.Days)
	// The widgets edit sched; it is the rule's schedule while switched on.
	sched := &rules.Schedule{From: cur.From, To: cur.To, Days: slices.Clone(cur.Days)}
	if r.Schedule != nil {
		r.Schedule = sched
	}

	var dayChecks []fyne.CanvasObject
	for _, day := range rules.Weekdays {
		c := widget.NewCheck(strings.ToUpper(day[:1])+day[1:], nil)
		c.SetChecked(on[day])
		c.OnChanged = func(b bool) {
			on[day] = b
			sched.Days = nil
			for _, w := range rules.Weekdays {
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

// devicesField is a devices list (machineIdentifiers) with a button that
// picks one of the players playing now and appends its identifier.
func (e *ruleEditor) devicesField(en *widget.Entry) fyne.CanvasObject {
	pick := widget.NewButtonWithIcon("Pick a playing device…", theme.ContentAddIcon(), func() { e.pickDevice(en) })
	return container.NewVBox(en, container.NewHBox(pick))
}

// pickDevice lists rules.LivePlayers of the latest state (label and
// machineIdentifier) and appends the chosen identifier to en's list
// (unless it is there already).
func (e *ruleEditor) pickDevice(en *widget.Entry) {
	u := e.v.u
	players := rules.LivePlayers(u.state)
	if len(players) == 0 {
		u.showDialog(dialog.NewInformation("Pick a playing device", "No player with an identifier is playing now. Start a stream on the device, then pick it here.", u.win))
		return
	}
	var chosen string
	list := widget.NewList(func() int { return len(players) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(players[i].Label + " — " + players[i].MachineIdentifier)
		})
	list.OnSelected = func(i widget.ListItemID) { chosen = players[i].MachineIdentifier }
	d := dialog.NewCustomConfirm("Pick a playing device", "Add", "Cancel", list, func(ok bool) {
		if !ok || chosen == "" {
			return
		}
		e.appendDevice(en, chosen)
	}, u.win)
	d.Resize(fyne.NewSize(560, 320))
	u.showDialog(d)
}

// appendDevice adds id to the list edited by en, through the entry so that
// its text, the draft and any parse error stay as one.
func (e *ruleEditor) appendDevice(en *widget.Entry, id string) {
	list := parseList(en.Text)
	if slices.Contains(list, id) {
		return
	}
	en.SetText(strings.Join(append(list, id), ", "))
}
