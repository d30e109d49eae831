package ui

import (
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/rules"
)

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
