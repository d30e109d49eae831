package ui

import (
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// TestKeyboard: Ctrl+F focuses the filter, Delete opens Terminate… for the
// selected row with the cursor at the end of the message, Esc closes the
// dialog while typing and when nothing has the focus, and a selection
// highlights the whole row (issue 14.6).
func TestKeyboard(t *testing.T) {
	u := newTestUI(t, newFakeBackend(), fixedState())
	c := u.Window().Canvas()
	u.tabs.Select(u.settingsTab)
	// The test canvas wraps the software canvas, whose shortcut handler
	// holds the window's shortcuts.
	sc := reflect.ValueOf(c).Elem().FieldByName("WindowlessCanvas").Interface().(fyne.Shortcutable)
	sc.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault})
	if u.tabs.Selected() != u.sessionsTab || c.Focused() != u.sessions.filter {
		t.Errorf("Ctrl+F: tab %q, focus %T; want the Sessions filter", u.tabs.Selected().Text, c.Focused())
	}
	c.Unfocus()

	u.sessions.table.Select(widget.TableCellID{Row: 0, Col: 3})
	g := u.sessions.grid
	for _, row := range []int{0, 1} {
		for col := range g.cols {
			cell := newTableCell()
			g.updateCell(widget.TableCellID{Row: row, Col: col}, cell)
			if cell.row != (row == 0) {
				t.Errorf("cell %d:%d highlighted %v, want the whole selected row (0) only", row, col, cell.row)
			}
		}
	}
	kt := g.keys
	if kt == nil {
		t.Fatal("the sessions table does not take keys")
	}
	kt.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	top := c.Overlays().Top()
	if top == nil {
		t.Fatal("Delete on the selected row opened no dialog")
	}
	entry := findMultiLineEntry(t, top)
	lines := strings.Split(entry.Text, "\n")
	if entry.CursorRow != len(lines)-1 || entry.CursorColumn != len([]rune(lines[len(lines)-1])) {
		t.Errorf("message cursor at %d:%d, want the end %d:%d", entry.CursorRow, entry.CursorColumn, len(lines)-1, len([]rune(lines[len(lines)-1])))
	}
	focused, ok := c.Focused().(*escEntry)
	if !ok {
		t.Fatalf("focus %T, want the message", c.Focused())
	}
	focused.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if c.Overlays().Top() != nil {
		t.Error("Esc in the message did not close the dialog")
	}

	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyDelete}) // nothing focused
	if c.Overlays().Top() == nil {
		t.Fatal("Delete did not open Terminate…")
	}
	c.Unfocus()
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if c.Overlays().Top() != nil {
		t.Error("Esc did not close the dialog")
	}
	if n := len(u.b.(*fakeBackend).terminated); n != 0 {
		t.Errorf("%d terminates after Esc", n)
	}
}
