package ui

import (
	"fmt"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// TestTableSelectionFollows steps a selection through the updates the
// Sessions and Transcoders tables see: rows reordered, the item changed,
// filtered out while live, gone, and back.
func TestTableSelectionFollows(t *testing.T) {
	test.NewTempApp(t)
	type item struct{ key, val string }
	var rows []item
	var events []string // table highlight changes, in order
	table := widget.NewTable(func() (int, int) { return len(rows), 2 },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(widget.TableCellID, fyne.CanvasObject) {})
	shown := 0
	s := tableSelection[string, item]{
		table:    table,
		rows:     func() []item { return rows },
		keyOf:    func(i *item) string { return i.key },
		onChange: func() { shown++ },
	}
	table.OnSelected = func(id widget.TableCellID) {
		events = append(events, fmt.Sprintf("select %d", id.Row))
		s.onSelected(id)
	}
	table.OnUnselected = func(id widget.TableCellID) { events = append(events, fmt.Sprintf("unselect %d", id.Row)) }
	test.NewTempWindow(t, table)

	mk := func(keys ...string) []item {
		out := make([]item, len(keys))
		for i, k := range keys {
			out[i] = item{k, k + "1"}
		}
		return out
	}
	rows = mk("a", "b", "c")
	if s.hasSelection() || s.selectedIndex() != -1 {
		t.Fatalf("selection %q at %d before any tap, want none at -1", s.selected, s.selectedIndex())
	}
	table.Select(widget.TableCellID{Row: 1, Col: 1}) // a tap on b
	if s.selected != "b" || s.sel.val != "b1" || !s.selLive || shown != 1 {
		t.Fatalf("after a tap on b: selected %q (%+v, live %v), details shown %d times; want b, live, once",
			s.selected, s.sel, s.selLive, shown)
	}

	steps := []struct {
		name      string
		rows, all []item // all nil: the rows are all there is
		index     int
		live      bool
		val       string
		events    []string // highlight changes by this step
	}{
		{"reordered, same row", mk("c", "b", "a"), nil, 1, true, "b1", nil},
		{"moved", mk("b", "a", "c"), nil, 0, true, "b1", []string{"unselect 1", "select 0"}},
		{"changed", []item{{"b", "b2"}, {"a", "a1"}}, nil, 0, true, "b2", nil},
		{"filtered out, still live", mk("a", "c"), []item{{"a", "a1"}, {"b", "b3"}, {"c", "c1"}}, -1, true, "b3", []string{"unselect 0"}},
		{"gone", mk("a", "c"), nil, -1, false, "b3", nil},
		{"back", mk("a", "c", "b"), nil, 2, true, "b1", []string{"select 2"}},
	}
	for _, st := range steps {
		events = nil
		before := shown
		var live func() []item
		if st.all != nil {
			all := st.all
			live = func() []item { return all }
		}
		s.follow(func() { rows = st.rows }, live)
		if got := s.selectedIndex(); got != st.index {
			t.Errorf("%s: selected row %d, want %d", st.name, got, st.index)
		}
		if s.selected != "b" || s.selLive != st.live || s.sel.val != st.val {
			t.Errorf("%s: selected %q, live %v, copy %q; want b, %v, %q", st.name, s.selected, s.selLive, s.sel.val, st.live, st.val)
		}
		if !slices.Equal(events, st.events) {
			t.Errorf("%s: highlight changes %q, want %q", st.name, events, st.events)
		}
		if shown == before {
			t.Errorf("%s: details not shown again", st.name)
		}
	}
}
