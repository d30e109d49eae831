package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

type fillRow struct{ a string }

// A wide table shares the room its columns leave: all of it to a column
// marked grow, else to the text columns in proportion to their widths
// (an action column keeps its own); a narrow one keeps every column's own
// width and scrolls.
func TestTableFillsWidth(t *testing.T) {
	test.NewTempApp(t)
	text := func(r *fillRow, _ cellEnv) string { return r.a }
	room := func(width float32, cols int, sum float32) float32 {
		return width - theme.ScrollBarSize() - float32(cols)*theme.Padding() - sum
	}
	for _, tc := range []struct {
		name  string
		cols  []*column[fillRow]
		width float32
		want  func() []float32
	}{
		{"wide: in proportion", []*column[fillRow]{{title: "A", width: 100, text: text}, {title: "B", width: 300, text: text}},
			1200, func() []float32 { x := room(1200, 2, 400); return []float32{100 + x/4, 300 + 3*x/4} }},
		{"narrow: own widths", []*column[fillRow]{{title: "A", width: 100, text: text}, {title: "B", width: 300, text: text}},
			200, func() []float32 { return []float32{100, 300} }},
		{"wide: grow marked", []*column[fillRow]{{title: "A", width: 100, text: text, grow: true}, {title: "B", width: 300, text: text}},
			1200, func() []float32 { return []float32{100 + room(1200, 2, 400), 300} }},
		{"wide: action keeps its width", []*column[fillRow]{{title: "A", width: 100, text: text}, {title: "", width: 90, action: true}},
			1200, func() []float32 { return []float32{100 + room(1200, 2, 190), 90} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := []fillRow{{"x"}}
			dt := newDataTable(func() []fillRow { return rows }, tc.cols, nil)
			dt.action = func() *widget.Button { return widget.NewButton("Kill…", nil) }
			dt.setAction = func(*fillRow, *widget.Button) {}
			dt.build(nil)
			dt.stack().Resize(fyne.NewSize(tc.width, 300))
			if want := tc.want(); !slices.Equal(dt.shown, want) {
				t.Errorf("widths = %v, want %v", dt.shown, want)
			}
		})
	}
}
