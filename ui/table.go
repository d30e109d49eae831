// One table helper for the sessions, transcoders, history, timeline and
// rules preview tables: a column is one struct literal.

package ui

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// cellEnv is what a cell's text may depend on besides its row.
type cellEnv struct {
	now time.Time      // for ages ("idle 45s")
	loc *time.Location // for times; nil is UTC
	// down maps the servers that are down to when their sessions were
	// last known: those rows are shown greyed, as last known.
	down map[string]time.Time
}

// column is one column of a table of rows of T.
type column[T any] struct {
	title    string
	width    float32                        // initial width; the user can drag header dividers
	narrow   float32                        // width when the optional columns show too; 0: width
	text     func(r *T, env cellEnv) string // the cell's text
	sort     func(a, b *T) int              // the sort key; nil: the text without case
	warn     func(r *T) bool                // the cell stands out (bold, orange, ⚠); nil: never
	optional bool                           // shown only with several servers
	action   bool                           // the cell is the row's action button (no text, no sort)
	grow     bool                           // takes all the room a wide table leaves (else text columns share it)
}

// compare compares two rows by c: its sort key, else its text without
// case.
func (c *column[T]) compare(a, b *T, env cellEnv) int {
	if c.sort != nil {
		return c.sort(a, b)
	}
	return cmp.Compare(strings.ToLower(c.text(a, env)), strings.ToLower(c.text(b, env)))
}

// sortOrder is how a table is sorted. The zero value is the table's own
// default order.
type sortOrder[T any] struct {
	col  *column[T] // the column whose header was clicked; nil for none
	desc bool
}

// toggle returns the order after a click on the header of c: ascending on
// a new column, flipped on the current one.
func (o sortOrder[T]) toggle(c *column[T]) sortOrder[T] {
	if o.col == c {
		return sortOrder[T]{col: c, desc: !o.desc}
	}
	return sortOrder[T]{col: c}
}

// compare compares two rows by the order's column (0 without one).
func (o sortOrder[T]) compare(a, b *T, env cellEnv) int {
	if o.col == nil {
		return 0
	}
	c := o.col.compare(a, b, env)
	if o.desc {
		c = -c
	}
	return c
}

// shownColumns are the columns shown for a number of servers: the optional
// ones (Server) only when there are several.
func shownColumns[T any](all []*column[T], servers int) []*column[T] {
	cols := make([]*column[T], 0, len(all))
	for _, c := range all {
		if !c.optional || servers > 1 {
			cols = append(cols, c)
		}
	}
	return cols
}

// columnNamed is the column titled title, or nil.
func columnNamed[T any](all []*column[T], title string) *column[T] {
	for _, c := range all {
		if c.title == title {
			return c
		}
	}
	return nil
}

// dataTable is a widget.Table showing rows of T, one column per column
// literal. With onSort set, headers are buttons that sort; with action
// set, action columns hold a button per row.
type dataTable[T any] struct {
	*widget.Table
	cols  []*column[T] // the columns shown
	rows  func() []T
	env   func() cellEnv
	order sortOrder[T]

	dim        func(r *T, env cellEnv) bool // the row is greyed; nil: never
	onSort     func()                       // after a header tap; nil: headers do not sort
	boldHeader bool                         // headers are bold labels (not sort buttons or cells)
	action     func() *widget.Button        // the template of an action column's button
	setAction  func(r *T, b *widget.Button) // sets the button of row r (rows are reused)
	onKey      func(*fyne.KeyEvent) bool    // keys of the focused table; true: handled

	selRow int       // the selected row, highlighted whole; -1 for none
	keys   *keyTable // the widget when onKey is set
	widths []float32 // the columns' own widths; fill shares out the room a wide table leaves
	shown  []float32 // the widths fill gave them
}

// keyTable is a widget.Table that offers its keys to onKey first (Delete
// on the selected row).
type keyTable struct {
	widget.Table
	onKey func(*fyne.KeyEvent) bool
}

// TypedKey implements fyne.Focusable.
func (k *keyTable) TypedKey(ev *fyne.KeyEvent) {
	if k.onKey == nil || !k.onKey(ev) {
		k.Table.TypedKey(ev)
	}
}

// newDataTable builds the widget; set onSort, boldHeader or action before
// build, then call build.
func newDataTable[T any](rows func() []T, cols []*column[T], env func() cellEnv) *dataTable[T] {
	if env == nil {
		env = func() cellEnv { return cellEnv{} }
	}
	return &dataTable[T]{cols: cols, rows: rows, env: env, selRow: -1}
}

// build makes the widget.Table, with onSelected for row taps.
func (t *dataTable[T]) build(onSelected func(widget.TableCellID)) *widget.Table {
	// A selection is a row: the whole row is highlighted.
	k := &keyTable{onKey: t.onKey, Table: widget.Table{
		Length:        func() (int, int) { return len(t.rows()), len(t.cols) },
		CreateCell:    t.createCell,
		UpdateCell:    t.updateCell,
		ShowHeaderRow: true,
		CreateHeader:  t.createHeader,
		UpdateHeader:  t.updateHeader,
		OnSelected: func(id widget.TableCellID) {
			t.setSelRow(id.Row)
			if onSelected != nil {
				onSelected(id)
			}
		},
		OnUnselected: func(widget.TableCellID) { t.setSelRow(-1) },
	}}
	t.Table = &k.Table
	if t.onKey != nil {
		t.keys = k
		k.ExtendBaseWidget(k)
	} else {
		t.ExtendBaseWidget(t.Table)
	}
	t.setWidths(false)
	return t.Table
}

// setSelRow highlights row (-1: none).
func (t *dataTable[T]) setSelRow(row int) {
	if t.selRow != row {
		t.selRow = row
		t.Refresh()
	}
}

// setColumns shows cols with their widths (narrow when optional columns
// show), and reports whether they changed.
func (t *dataTable[T]) setColumns(cols []*column[T]) bool {
	if slices.Equal(cols, t.cols) {
		return false
	}
	t.cols = cols
	narrow := false
	for _, c := range cols {
		narrow = narrow || c.optional
	}
	t.setWidths(narrow)
	return true
}

func (t *dataTable[T]) setWidths(narrow bool) {
	t.widths = t.widths[:0]
	for i, c := range t.cols {
		w := c.width
		if narrow && c.narrow > 0 {
			w = c.narrow
		}
		t.widths = append(t.widths, w)
		t.SetColumnWidth(i, w)
	}
	t.fill(t.Size())
}

// fill shares the room a wide table leaves among its columns, so a wide
// window shows more of what a narrow one cuts: all of it to the column
// marked grow, else to every text column in proportion to its width
// (action columns keep theirs). A narrow table keeps the columns' own
// widths and scrolls.
func (t *dataTable[T]) fill(s fyne.Size) {
	n := len(t.widths)
	if n == 0 || t.Table == nil || n > len(t.cols) {
		return
	}
	gap := theme.Padding() // between two columns
	var sum, share float32
	grow := -1
	for i, w := range t.widths {
		sum += w
		if t.cols[i].grow {
			grow = i
		}
		if !t.cols[i].action {
			share += w
		}
	}
	extra := s.Width - theme.ScrollBarSize() - float32(n)*gap - sum
	if extra < 0 || share == 0 {
		extra = 0
	}
	t.shown = t.shown[:0]
	for i, w := range t.widths {
		switch {
		case grow >= 0 && i == grow:
			w += extra
		case grow < 0 && !t.cols[i].action:
			w += extra * w / share
		}
		t.shown = append(t.shown, w)
		t.SetColumnWidth(i, w)
	}
}

// stack lays the table out with others on top (an empty-list label), as
// container.NewStack does, widening its last text column to the width it
// gets (fill).
func (t *dataTable[T]) stack(others ...fyne.CanvasObject) *fyne.Container {
	return container.New(fillStack{fill: t.fill}, append([]fyne.CanvasObject{t.Table}, others...)...)
}

// fillStack is layout.StackLayout telling fill the size first.
type fillStack struct{ fill func(fyne.Size) }

// Layout implements fyne.Layout.
func (l fillStack) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l.fill(size)
	layout.NewStackLayout().Layout(objs, size)
}

// MinSize implements fyne.Layout.
func (l fillStack) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return layout.NewStackLayout().MinSize(objs)
}

func (t *dataTable[T]) createCell() fyne.CanvasObject {
	if t.action != nil {
		return container.NewStack(newTableCell(), t.action())
	}
	return newTableCell()
}

func (t *dataTable[T]) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	var cell *tableCell
	var button *widget.Button
	if c, ok := o.(*fyne.Container); ok {
		cell, button = c.Objects[0].(*tableCell), c.Objects[1].(*widget.Button)
	} else {
		cell = o.(*tableCell)
	}
	rows := t.rows()
	if id.Row < 0 || id.Row >= len(rows) || id.Col < 0 || id.Col >= len(t.cols) {
		cell.setRow("", false, false, false)
		if button != nil {
			button.Hide()
		}
		return
	}
	r, col := &rows[id.Row], t.cols[id.Col]
	if col.action && button != nil {
		cell.Hide()
		button.Show()
		t.setAction(r, button)
		return
	}
	if button != nil {
		button.Hide()
		cell.Show()
	}
	env := t.env()
	cell.setRow(col.text(r, env), col.warn != nil && col.warn(r), t.dim != nil && t.dim(r, env), id.Row == t.selRow)
}

func (t *dataTable[T]) createHeader() fyne.CanvasObject {
	switch {
	case t.onSort != nil:
		return newHeaderButton()
	case t.boldHeader:
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	return newTableCell()
}

func (t *dataTable[T]) updateHeader(id widget.TableCellID, o fyne.CanvasObject) {
	var col *column[T]
	if id.Col >= 0 && id.Col < len(t.cols) {
		col = t.cols[id.Col]
	}
	switch h := o.(type) {
	case *tableCell:
		if col != nil {
			h.set(col.title, false)
		}
	case *widget.Label:
		title := ""
		if col != nil {
			title = col.title
		}
		setText(h, title)
	case *widget.Button:
		if col == nil || col.action {
			h.Text, h.Icon, h.OnTapped = "", nil, nil
			h.Refresh()
			return
		}
		h.Text = col.title
		h.Icon = nil
		if t.order.col == col {
			h.Icon = theme.MenuDropDownIcon()
			if !t.order.desc {
				h.Icon = theme.MenuDropUpIcon()
			}
		}
		h.OnTapped = func() { t.sortBy(col) } // headers are reused: set on every update
		h.Refresh()
	}
}

// sortBy toggles the sort on column c (header tap, UI goroutine).
func (t *dataTable[T]) sortBy(c *column[T]) {
	t.order = t.order.toggle(c)
	if t.onSort != nil {
		t.onSort()
	}
}

// newHeaderButton is the template of a column header: a flat button that
// sorts by its column.
func newHeaderButton() fyne.CanvasObject {
	b := widget.NewButton("", nil)
	b.Importance = widget.LowImportance
	b.Alignment = widget.ButtonAlignLeading
	b.IconPlacement = widget.ButtonIconTrailingText
	return b
}
