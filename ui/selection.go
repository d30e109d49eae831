package ui

import "fyne.io/fyne/v2/widget"

// tableSelection is the selected row of a table whose rows are rebuilt and
// reordered on every update (Sessions, Transcoders). It follows the
// selected item by key rather than by row, keeps the item's latest copy
// after it is gone so the details stay, and moves the table's highlight
// with it. Views embed it; UI goroutine only.
type tableSelection[K comparable, T any] struct {
	table    *widget.Table
	rows     func() []T // what the table shows now
	keyOf    func(*T) K
	onChange func() // shows the selection's details

	selected K    // the selected item's key; the zero K for none
	sel      T    // its latest copy, kept after it is gone
	selLive  bool // sel is in the latest data
}

// hasSelection reports whether an item is selected.
func (s *tableSelection[K, T]) hasSelection() bool {
	var none K
	return s.selected != none
}

// selectedIndex is the row of the selected item, or -1.
func (s *tableSelection[K, T]) selectedIndex() int {
	if !s.hasSelection() {
		return -1
	}
	rows := s.rows()
	for i := range rows {
		if s.keyOf(&rows[i]) == s.selected {
			return i
		}
	}
	return -1
}

// onSelected is the table's OnSelected: the item of row id.Row becomes the
// selection.
func (s *tableSelection[K, T]) onSelected(id widget.TableCellID) {
	rows := s.rows()
	if id.Row < 0 || id.Row >= len(rows) {
		return
	}
	s.selected, s.sel, s.selLive = s.keyOf(&rows[id.Row]), rows[id.Row], true
	s.onChange()
}

// follow rebuilds the rows with rebuild, refreshes the table and keeps the
// selection on the same item: its copy is updated from live (all current
// items, which may be more than the rows shown; nil means the rows), the
// highlight moves when its row did (scrolling only then) and disappears
// when the item is not shown; then the details are shown again.
func (s *tableSelection[K, T]) follow(rebuild func(), live func() []T) {
	oldIndex := s.selectedIndex()
	rebuild()
	s.table.Refresh()

	if live == nil {
		live = s.rows
	}
	s.selLive = false
	if s.hasSelection() {
		items := live()
		for i := range items {
			if s.keyOf(&items[i]) == s.selected {
				s.sel, s.selLive = items[i], true
				break
			}
		}
	}
	switch idx := s.selectedIndex(); {
	case idx < 0:
		s.table.UnselectAll()
	case idx != oldIndex:
		s.table.Select(widget.TableCellID{Row: idx, Col: 0})
	}
	s.onChange()
}
