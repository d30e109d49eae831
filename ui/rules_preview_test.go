package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/rules"
)

func TestRulesPreviewSelectsRule(t *testing.T) {
	fr := &fakeRules{file: twoRules()}
	st := fixedState()
	bob := bobSession()
	bob.StateSince = testNow.Add(-45 * time.Minute)
	ss := sessionsOf(st, 0)
	ss[0] = bob
	setSessions(st, 0, ss...)
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
	if got := previewNotes(&v.preview.items[row], v.preview.done["Paused too long\x00"+bob.Key()]); got != "already acted" {
		t.Errorf("notes %q, want already acted", got)
	}
	if got := previewMessage(&v.preview.items[row]); got != "(no message)" {
		t.Errorf("stop transcode message %q", got)
	}
	v.preview.onSelected(v, widget.TableCellID{Row: row, Col: 0})
	if v.sel != 1 || !strings.HasPrefix(v.editor.sessions.Selected, "bob") {
		t.Errorf("selecting the preview row: rule %d, session %q", v.sel, v.editor.sessions.Selected)
	}
}
