package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/local"
	"github.com/plexwarden/plexwarden/internal/words"
)

// LocalBackend ends transcoder processes on this computer for the
// Transcoders tab; app implements it with local.Kill, tests fake it.
type LocalBackend interface {
	// KillLocal ends the transcoder id: SIGTERM, a wait, then SIGKILL
	// (TerminateProcess on Windows). It blocks, so the UI calls it off the
	// UI goroutine. Errors are those of local.Kill: local.ErrNoProcess,
	// local.ErrNotTranscoder, local.ErrStillRunning and a
	// *local.PermissionError that names the remedy.
	KillLocal(ctx context.Context, id local.ProcID) (local.KillResult, error)
}

// PostLocal hands a new scan of the local transcoders to the UI: the
// Transcoders tab and the tray tooltip. Like Post it may be called from any
// goroutine, never blocks, and applies only the newest scan, at most ten
// per second. Scans are immutable once published.
func (u *UI) PostLocal(s *local.Scan) { u.localDoor.post(s) }

// applyLocal shows scan s (UI goroutine; tests call it directly).
func (u *UI) applyLocal(s *local.Scan) {
	if s == nil {
		return
	}
	u.localScan = s
	if u.transcoders != nil {
		u.transcoders.setScan(s)
	}
	if u.tray != nil {
		u.tray.update(u.state)
	}
}

// transcoderColumns are the transcoders table's columns, in display order;
// the widths fit the default window (1092 px inside, 4 px between
// columns). Sorting compares numbers where the column shows one, else text
// without case.
var transcoderColumns = []*column[local.Transcoder]{
	{
		title: "PID", width: 56, text: func(t *local.Transcoder, _ cellEnv) string { return fmt.Sprint(t.PID) },
		sort: func(a, b *local.Transcoder) int { return cmp.Compare(a.PID, b.PID) },
	},
	{title: "Name", width: 124, text: func(t *local.Transcoder, _ cellEnv) string { return t.Name }},
	{
		title: "Link", width: 214, text: func(t *local.Transcoder, _ cellEnv) string { return displayArrows(linkText(t)) },
		warn: func(t *local.Transcoder) bool { return t.Link == local.LinkOrphan },
	},
	{
		title: "CPU", width: 50, text: func(t *local.Transcoder, _ cellEnv) string { return cpuText(t) },
		sort: func(a, b *local.Transcoder) int { return cmp.Compare(a.CPUPercent, b.CPUPercent) },
	},
	{
		title: "Memory", width: 78, text: func(t *local.Transcoder, _ cellEnv) string { return local.FormatBytes(int64(t.RSS)) },
		sort: func(a, b *local.Transcoder) int { return cmp.Compare(a.RSS, b.RSS) },
	},
	{
		title: "Uptime", width: 68, text: func(t *local.Transcoder, _ cellEnv) string { return local.FormatUptime(t.Uptime) },
		sort: func(a, b *local.Transcoder) int { return cmp.Compare(a.Uptime, b.Uptime) },
	},
	{
		title: "Output", width: 292, grow: true, text: func(t *local.Transcoder, env cellEnv) string { return outputText(t.Output, env.now) },
		sort: func(a, b *local.Transcoder) int { return cmp.Compare(a.Output.Bytes, b.Output.Bytes) },
	},
	{title: "Owner", width: 66, text: func(t *local.Transcoder, _ cellEnv) string { return t.Owner }},
	{title: "", width: 90, action: true}, // the row's Kill… button
}

// tcOrder is how the transcoders table is sorted; the zero value keeps the
// scan's order (oldest first).
type tcOrder = sortOrder[local.Transcoder]

// sortTranscoders sorts list in place by o; ties keep the scan's order.
func sortTranscoders(list []local.Transcoder, o tcOrder, now time.Time) {
	if o.col == nil {
		return
	}
	slices.SortStableFunc(list, func(a, b local.Transcoder) int { return o.compare(&a, &b, cellEnv{now: now}) })
}

// transcodersView is the Transcoders tab: the transcoder processes on this
// computer, Plex transcode sessions that have lost theirs, the selected
// process's details, and a Kill… button per row.
type transcodersView struct {
	u    *UI
	b    LocalBackend
	scan *local.Scan
	rows []local.Transcoder // the scan's transcoders, sorted: what the table shows

	grid *dataTable[local.Transcoder] // the table's columns and sort order
	// The selected process (selected is zero for none); sel is its latest
	// copy, kept after it exits so the details stay.
	tableSelection[local.ProcID, local.Transcoder]
	busy map[local.ProcID]bool // kills in flight

	summary     *widget.Label
	note        *widget.Label   // Plex not asked, or could not be asked
	result      *widget.Label   // the last kill's result
	resultBox   *fyne.Container // result and its dismiss button
	table       *widget.Table
	empty       *widget.Label
	area        *fyne.Container // table or empty state
	stale       *fyne.Container // stale sessions, hidden when there are none
	staleLs     *widget.Label
	staleScroll *container.Scroll // staleLs, at most four lines high
	list        *fyne.Container   // area and stale
	top         *fyne.Container   // summary, note and result

	heading *widget.Label
	form    *widget.Form
	vals    [len(tcDetailFields)]*widget.Label
	scroll  *container.Scroll
	content fyne.CanvasObject
}

func newTranscodersView(u *UI, b LocalBackend) *transcodersView {
	v := &transcodersView{u: u, b: b, busy: map[local.ProcID]bool{}}
	v.summary = newLabel("", widget.MediumImportance)
	v.summary.TextStyle.Bold = true
	v.note = newLabel("", widget.LowImportance)
	v.note.Wrapping = fyne.TextWrapWord
	v.note.Hide()
	v.result = widget.NewLabel("")
	v.result.Wrapping = fyne.TextWrapWord
	v.result.Selectable = true // a permission remedy names commands to copy
	dismiss := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { setVisible(v.resultBox, v.top, false) })
	dismiss.Importance = widget.LowImportance
	v.resultBox = container.NewBorder(nil, nil, nil, container.NewVBox(dismiss), v.result)
	v.resultBox.Hide()
	v.top = container.NewVBox(v.summary, v.note, v.resultBox)

	v.grid = newDataTable(func() []local.Transcoder { return v.rows }, transcoderColumns,
		func() cellEnv { return cellEnv{now: v.u.now()} })
	v.grid.onSort = v.refreshRows
	v.grid.action = func() *widget.Button { return widget.NewButtonWithIcon("Kill…", theme.CancelIcon(), nil) }
	v.grid.setAction = v.setKill
	v.table = v.grid.build(v.onSelected)
	v.tableSelection = tableSelection[local.ProcID, local.Transcoder]{
		table:    v.table,
		rows:     func() []local.Transcoder { return v.rows },
		keyOf:    (*local.Transcoder).ID,
		onChange: v.showDetails,
	}

	v.empty = widget.NewLabel("Looking for transcoder processes…")
	v.empty.Wrapping = fyne.TextWrapWord // full width, so it wraps instead of running off the edges
	v.area = v.grid.stack(container.NewVBox(v.empty))
	v.table.Hide()

	v.staleLs = newLabel("", widget.WarningImportance)
	v.staleLs.Selectable = true
	staleHead := widget.NewLabelWithStyle("Plex transcode sessions without a process", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	// Many stale sessions scroll (at most four lines show), so the window's
	// minimum size does not grow with them.
	v.staleScroll = container.NewVScroll(v.staleLs)
	v.stale = container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil,
		widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon())), nil, staleHead), v.staleScroll)
	v.stale.Hide()
	v.list = container.NewBorder(nil, v.stale, nil, nil, v.area)

	v.heading = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.heading.Truncation = fyne.TextTruncateEllipsis
	v.form = widget.NewForm()
	for i, name := range tcDetailFields {
		v.vals[i] = widget.NewLabel("")
		v.vals[i].Selectable = true // paths and the command line are for copying
		v.vals[i].Wrapping = fyne.TextWrapWord
		v.form.Append(name, v.vals[i])
	}
	v.scroll = container.NewVScroll(v.form)
	details := container.NewBorder(container.NewVBox(widget.NewSeparator(), v.heading), nil, nil, nil, v.scroll)

	split := container.NewVSplit(v.list, details)
	split.Offset = 0.55
	v.content = container.NewBorder(v.top, nil, nil, nil, split)
	v.showDetails()
	return v
}

// setScan shows scan s (UI goroutine).
func (v *transcodersView) setScan(s *local.Scan) {
	v.scan = s
	setText(v.summary, localSummary(s))
	note := ""
	if s.Count() > 0 { // with none, the empty state says it
		note = plexNote(s, v.u.demoOnly())
	}
	setText(v.note, note)
	setVisible(v.note, v.top, note != "")
	v.refreshRows()

	var stale []string
	for _, ss := range s.Stale {
		stale = append(stale, staleText(ss))
	}
	setText(v.staleLs, strings.Join(stale, "\n"))
	h := v.staleLs.MinSize().Height
	if n := len(stale); n > 4 {
		pad := 2 * theme.InnerPadding()
		h = (h-pad)/float32(n)*4 + pad
	}
	v.staleScroll.SetMinSize(fyne.NewSize(0, h))
	setVisible(v.stale, v.list, len(stale) > 0)
}

// refreshRows recomputes the rows after a scan or a sort, keeps the
// selection on the same process and refreshes the table.
func (v *transcodersView) refreshRows() {
	if v.scan == nil {
		return
	}
	v.follow(func() {
		v.rows = slices.Clone(v.scan.Transcoders)
		sortTranscoders(v.rows, v.grid.order, v.u.now())
	}, nil)

	if len(v.rows) == 0 {
		setText(v.empty, emptyLocalText(v.scan, v.u.demoOnly()))
	}
	setVisible(v.table, v.area, len(v.rows) > 0)
	setVisible(v.empty, v.area, len(v.rows) == 0)
}

// setKill sets the Kill… button of row t (cells are reused: the button
// names its process, set on every update).
func (v *transcodersView) setKill(t *local.Transcoder, kill *widget.Button) {
	pid := t.ID()
	kill.OnTapped = func() { v.confirmKill(pid) }
	if v.busy[pid] {
		kill.Disable()
	} else {
		kill.Enable()
	}
}

// sortBy toggles the sort on column c (header tap).
func (v *transcodersView) sortBy(c *column[local.Transcoder]) { v.grid.sortBy(c) }

// showDetails fills the details from the selection.
func (v *transcodersView) showDetails() {
	if v.selected == (local.ProcID{}) {
		setText(v.heading, "Select a transcoder to see its command line and files.")
		setVisible(v.form, v.scroll, false)
		return
	}
	setVisible(v.form, v.scroll, true)
	t := &v.sel
	heading := joinDot(fmt.Sprintf("PID %d", t.PID), t.Name, displayArrows(linkText(t)))
	if !v.selLive {
		heading += " (exited)"
	}
	setText(v.heading, heading)
	for i, val := range tcDetailValues(t) {
		setText(v.vals[i], val)
	}
}

// showResult shows a kill's progress or result above the table.
func (v *transcodersView) showResult(text string, imp widget.Importance) {
	v.result.Importance = imp
	v.result.SetText(text)
	setVisible(v.resultBox, v.top, true)
}

// find returns the transcoder id of the latest scan, or nil.
func (v *transcodersView) find(id local.ProcID) *local.Transcoder {
	if v.scan == nil {
		return nil
	}
	for i := range v.scan.Transcoders {
		if v.scan.Transcoders[i].ID() == id {
			return &v.scan.Transcoders[i]
		}
	}
	return nil
}

// confirmKill asks before killing process id (Kill… tap, UI goroutine). It
// looks the process up now: rows are reused between scans.
func (v *transcodersView) confirmKill(id local.ProcID) {
	t := v.find(id)
	if t == nil {
		v.showResult(fmt.Sprintf("PID %d has already exited.", id.PID), widget.WarningImportance)
		return
	}
	tc := *t
	text := widget.NewLabel(killQuestion(&tc))
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm("Kill transcoder", "Kill", "Cancel", text, func(ok bool) {
		if ok {
			v.kill(tc)
		}
	}, v.u.win)
	d.SetConfirmImportance(widget.DangerImportance)
	d.Resize(fyne.NewSize(540, 250))
	v.u.showDialog(d)
}

// kill runs LocalBackend.KillLocal off the UI goroutine and shows the
// result above the table.
func (v *transcodersView) kill(t local.Transcoder) {
	id := t.ID()
	if v.busy[id] {
		return
	}
	v.busy[id] = true
	v.table.Refresh()
	v.showResult(fmt.Sprintf("Stopping PID %d (%s)…", t.PID, t.Name), widget.MediumImportance)
	// SIGTERM, up to DefaultForceAfter, SIGKILL and its wait fit well
	// within actionTimeout.
	v.u.background(actionTimeout, func(ctx context.Context) func() {
		res, err := v.b.KillLocal(ctx, id)
		return func() {
			delete(v.busy, id)
			v.table.Refresh()
			text, imp := killResultText(t.PID, t.Name, res, err)
			v.showResult(text, imp)
		}
	})
}

// killResultText words a kill's outcome: done, already gone, permission
// denied with the remedy, not a transcoder, or another failure.
func killResultText(pid int32, name string, res local.KillResult, err error) (string, widget.Importance) {
	who := fmt.Sprintf("PID %d (%s)", pid, name)
	var pe *local.PermissionError
	switch {
	case err == nil && res.Gone:
		return res.Text(), widget.MediumImportance
	case err == nil:
		if res.Name == "" {
			res.Name = name
		}
		return res.Text(), widget.SuccessImportance
	case errors.Is(err, local.ErrNoProcess):
		return who + " is already gone.", widget.MediumImportance
	case errors.As(err, &pe):
		// "Permission denied: … runs as bob." on one line, the remedy on the next.
		text := words.Capitalize(pe.Error())
		if pe.Self != "" {
			at := "runs as " + pe.Self + ". "
			text = strings.Replace(text, at, strings.TrimSuffix(at, " ")+"\n", 1)
		}
		return text, widget.DangerImportance
	case errors.Is(err, local.ErrPermission):
		return "Could not kill " + who + ": " + err.Error(), widget.DangerImportance
	case errors.Is(err, local.ErrNotTranscoder):
		return "Did not kill " + who + ": " + err.Error() + ".", widget.DangerImportance
	case errors.Is(err, local.ErrStillRunning):
		return who + " is still running after SIGKILL: it is stuck in the kernel, usually waiting for a disk or network share. " +
			"It ends when that wait does.", widget.DangerImportance
	case errors.Is(err, context.DeadlineExceeded):
		return "Gave up waiting for " + who + " to exit: " + err.Error(), widget.DangerImportance
	}
	return "Could not kill " + who + ": " + err.Error(), widget.DangerImportance
}

// demoOnly reports whether every server shown is the built-in demo.
func (u *UI) demoOnly() bool {
	if u.state == nil || len(u.state.Servers) == 0 {
		return u.opts.Demo
	}
	for _, sn := range u.state.Servers {
		if !sn.Demo {
			return false
		}
	}
	return true
}
