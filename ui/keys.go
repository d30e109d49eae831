// Keyboard: Esc closes dialogs, Ctrl+F focuses the filter, Delete asks to
// terminate the selected session (issue 14.6).

package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// setupKeys installs the window's keys. Keys reach the canvas only when
// no widget has the focus; the sessions table and the terminate message
// handle theirs (keyTable, escEntry).
func (u *UI) setupKeys() {
	c := u.win.Canvas()
	c.SetOnTypedKey(func(ev *fyne.KeyEvent) {
		switch ev.Name {
		case fyne.KeyEscape:
			u.dismissDialog()
		case fyne.KeyDelete:
			u.terminateSelected()
		}
	})
	c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { u.focusFilter() })
}

// showDialog shows d and remembers it for Esc.
func (u *UI) showDialog(d dialog.Dialog) {
	u.dialog = d
	d.Show()
}

// dismissDialog closes the dialog shown last, as Cancel would; false when
// none is open.
func (u *UI) dismissDialog() bool {
	d := u.dialog
	if d == nil || u.win.Canvas().Overlays().Top() == nil {
		return false
	}
	u.dialog = nil
	d.Dismiss()
	return true
}

// focusFilter shows the Sessions tab with the focus in its filter.
func (u *UI) focusFilter() {
	u.tabs.Select(u.sessionsTab)
	u.win.Canvas().Focus(u.sessions.filter)
}

// terminateSelected opens Terminate… for the selected session of the
// Sessions tab; false when it is not shown or nothing is selected.
func (u *UI) terminateSelected() bool {
	if u.tabs.Selected() != u.sessionsTab || u.sessions.selected == "" || !u.sessions.selLive {
		return false
	}
	u.confirmTerminate(u.sessions.selected)
	return true
}

// escEntry is an entry on which Esc runs onEsc (closing its dialog)
// instead of being swallowed by the entry.
type escEntry struct {
	widget.Entry
	onEsc func() bool
}

func newEscEntry(onEsc func() bool) *escEntry {
	e := &escEntry{onEsc: onEsc}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey implements fyne.Focusable.
func (e *escEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && e.onEsc != nil && e.onEsc() {
		return
	}
	e.Entry.TypedKey(ev)
}

// cursorToEnd puts the entry's cursor after its last character.
func cursorToEnd(e *widget.Entry) {
	lines := strings.Split(e.Text, "\n")
	e.CursorRow = len(lines) - 1
	e.CursorColumn = len([]rune(lines[len(lines)-1]))
	e.Refresh()
}
