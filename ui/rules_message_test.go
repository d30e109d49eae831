package ui

import (
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

func TestRulesPlayerMessages(t *testing.T) {
	u, _ := newRulesUI(t, &fakeRules{file: twoRules()}, fixedState())
	v := u.rules
	e := v.editor
	if n := len(e.msgRows.Objects); n != 1 {
		t.Fatalf("%d per-player rows, want the Roku one", n)
	}
	e.sessions.SetSelected(sessionOption(t, e, "Plex for Roku"))
	if got := e.rendered.Text; !strings.HasPrefix(got, "Hi bob! Severance - S01E03 - In Perpetuity was being converted for your Roku.") {
		t.Errorf("Roku preview %q", got)
	}
	if got := e.source.Text; got != "Uses the message for “roku”." { // Roku is bob's platform
		t.Errorf("source %q", got)
	}

	test.Tap(findButton(t, e.content, "Add player message"))
	if n := len(e.msgRows.Objects); n != 2 {
		t.Fatalf("%d rows after Add player message", n)
	}
	row := e.msgRows.Objects[1].(*fyne.Container)
	var key *widget.SelectEntry
	var text *widget.Entry
	for _, o := range test.LaidOutObjects(row) {
		switch w := o.(type) {
		case *widget.SelectEntry:
			key = w
		case *widget.Entry:
			if w.PlaceHolder == "Message for these players" {
				text = w
			}
		}
	}
	key.SetText("Plex for Roku")
	text.SetText("Exact product: {product}")
	want := map[string]string{"roku": "Hi {user}! {title} was being converted for your Roku. {quality}", "Plex for Roku": "Exact product: {product}"}
	if got := v.drafts[0].rule.Messages; !reflect.DeepEqual(got, want) {
		t.Errorf("messages %q, want %q", got, want)
	}
	if got := e.rendered.Text; got != "Exact product: Plex for Roku" {
		t.Errorf("preview %q: the exact product should beat the family", got)
	}

	// Removing the Roku family row.
	var removes []*widget.Button
	for _, o := range test.LaidOutObjects(e.msgRows) {
		if b, ok := o.(*widget.Button); ok && b.Icon != nil && b.Icon.Name() == theme.DeleteIcon().Name() {
			removes = append(removes, b)
		}
	}
	test.Tap(removes[0])
	want = map[string]string{"Plex for Roku": "Exact product: {product}"}
	if got := v.drafts[0].rule.Messages; !reflect.DeepEqual(got, want) {
		t.Errorf("after removing: messages %q, want %q", got, want)
	}
}

func TestRulesExampleSession(t *testing.T) {
	u, _ := newRulesUI(t, &fakeRules{file: twoRules()}, nil)
	e := u.rules.editor
	if !e.sample || !e.sessions.Disabled() {
		t.Error("with nothing playing the preview should use the example session")
	}
	if got := e.rendered.Text; !strings.HasPrefix(got, "Hi alice, this server does not convert video. In Plex Web:") {
		t.Errorf("example preview %q", got)
	}
	if got := u.rules.preview.empty.Text; got != "Nothing is playing: no rule would act." {
		t.Errorf("preview empty text %q", got)
	}
	u.apply(fixedState())
	if e.sample || e.sessions.Selected == "" {
		t.Error("a live session is not chosen once sessions play")
	}
}
