package ui

import (
	"reflect"
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"
)

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

	// Switching a rule off from its row takes effect at once (issue 14.2):
	// it is saved, and the list is back to the rules in force.
	v.setEnabled(v.drafts[0], false)
	u.bg.Wait()
	if v.drafts[0].rule.Enabled {
		t.Error("row switch did not disable the rule")
	}
	if v.dirty() {
		t.Error("dirty after the switch was saved")
	}
	test.Tap(v.revert)
	if !slices.Equal(names(), []string{"No remote transcodes", "Paused too long"}) || v.drafts[0].rule.Enabled || v.dirty() {
		t.Errorf("Revert left %q, enabled %v, dirty %v", names(), v.drafts[0].rule.Enabled, v.dirty())
	}
	if n := len(fr.saved()); n != 1 {
		t.Errorf("%d saves, want the switch's only", n)
	}
}

// TestRulesEnableSwitchActsAtOnce: unchecking a rule stops it without Save
// (issue 14.2): the rules in force are saved with the rule off, and other
// edits are not.
func TestRulesEnableSwitchActsAtOnce(t *testing.T) {
	fr := &fakeRules{file: twoRules()}
	u, _ := newRulesUI(t, fr, nil)
	v := u.rules
	v.editor.name.SetText("Renamed, not saved")
	row := v.createItem()
	v.updateItem(0, row)
	test.Tap(rowParts(row).check) // off
	u.bg.Wait()
	sets := fr.saved()
	if len(sets) != 1 {
		t.Fatalf("%d saves after the switch, want 1", len(sets))
	}
	got := sets[0].Rules[0]
	if got.Enabled || got.Name != "No remote transcodes" || !sets[0].Rules[1].Enabled {
		t.Errorf("saved rule %q enabled %v (second enabled %v), want the first off under its saved name", got.Name, got.Enabled, sets[0].Rules[1].Enabled)
	}
	if !v.dirty() || v.status.Text != "Unsaved changes" {
		t.Errorf("the rename should stay a draft: dirty %v, status %q", v.dirty(), v.status.Text)
	}
	// The editor's switch does the same.
	test.Tap(v.editor.enabled) // on again
	u.bg.Wait()
	if sets := fr.saved(); len(sets) != 2 || !sets[1].Rules[0].Enabled {
		t.Errorf("editor switch: %d saves, want the rule on again", len(sets))
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
	u.bg.Wait() // the switch is saved in the background
	if v.drafts[1].rule.Enabled {
		t.Error("unticking the row did not disable the rule")
	}
	v.updateItem(0, row) // reused for another rule
	test.Tap(parts.check)
	u.bg.Wait()
	if v.drafts[0].rule.Enabled {
		t.Error("the reused row did not switch its new rule")
	}
	if v.drafts[1].rule.Enabled {
		t.Error("the reused row switched its earlier rule back")
	}
}
