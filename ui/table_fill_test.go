package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

type fillRow struct{ a, b string }

// In a wide window the last text column takes the room the columns leave
// (an action column stays as it is); in a narrow one every column keeps its
// own width and the table scrolls.
func TestTableLastTextColumnFills(t *testing.T) {
	test.NewTempApp(t)
	text := func(r *fillRow, _ cellEnv) string { return r.a }
	for _, tc := range []struct {
		name      string
		cols      []*column[fillRow]
		width     float32
		wantWidth func(used float32) float32
	}{
		{"wide, text last", []*column[fillRow]{{title: "A", width: 100, text: text}, {title: "B", width: 150, text: text}},
			1200, func(used float32) float32 { return 1200 - used }},
		{"narrow, text last", []*column[fillRow]{{title: "A", width: 100, text: text}, {title: "B", width: 150, text: text}},
			200, func(float32) float32 { return 150 }},
		{"wide, grow marked", []*column[fillRow]{{title: "A", width: 100, text: text, grow: true}, {title: "B", width: 150, text: text}},
			1200, func(float32) float32 { return 1200 - theme.ScrollBarSize() - theme.Padding() - 150 - theme.Padding() }},
		{"wide, action last", []*column[fillRow]{{title: "A", width: 100, text: text}, {title: "B", width: 150, text: text}, {title: "", width: 90, action: true}},
			1200, func(used float32) float32 { return 1200 - used - 90 - theme.Padding() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := []fillRow{{"x", "y"}}
			dt := newDataTable(func() []fillRow { return rows }, tc.cols, nil)
			dt.action = func() *widget.Button { return widget.NewButton("Kill…", nil) }
			dt.setAction = func(*fillRow, *widget.Button) {}
			dt.build(nil)
			dt.stack().Resize(fyne.NewSize(tc.width, 300))
			used := theme.ScrollBarSize() + theme.Padding() + 100 + theme.Padding()
			want := tc.wantWidth(used)
			if dt.grown != want {
				t.Errorf("grown column width = %v, want %v", dt.grown, want)
			}
		})
	}
}
