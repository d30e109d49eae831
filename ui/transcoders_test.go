package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/local"
)

// fakeLocal records kills; its methods run on the UI's goroutines.
type fakeLocal struct {
	mu     sync.Mutex
	killed []local.ProcID
	res    local.KillResult
	err    error
}

func (f *fakeLocal) KillLocal(_ context.Context, id local.ProcID) (local.KillResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.killed = append(f.killed, id)
	res := f.res
	res.PID = id.PID
	return res, f.err
}

func (f *fakeLocal) calls() []local.ProcID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.killed)
}

// newOptsUI builds a UI on a fresh test app with opts (the fixed clock
// unless opts sets one).
func newOptsUI(t *testing.T, b *fakeBackend, opts Options) *UI {
	t.Helper()
	a := test.NewTempApp(t)
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	u := New(a, b, opts)
	u.Window().Resize(windowSize)
	t.Cleanup(func() {
		u.Stop()
		u.bg.Wait()
		u.Window().Close()
	})
	return u
}

// Transcoders of the fixed scan: alice's linked transcode, an orphan whose
// output went idle, and a background job not sampled yet.
func linkedTranscoder() local.Transcoder {
	return local.Transcoder{
		PID: 4242, PPID: 1180, Name: "Plex Transcoder", Kind: local.KindPlex, Owner: "plex", UID: 998, State: "running",
		Started: testNow.Add(-12 * time.Minute), Uptime: 12 * time.Minute,
		CPUPercent: 95.4, CPUSampled: true, CPUSeconds: 640, RSS: 412 << 20,
		Cmdline: []string{"/usr/lib/plexmediaserver/Plex Transcoder", "-codec:0", "hevc", "-i",
			"/media/Movies/The Matrix (1999)/The Matrix.mkv", "-X-Plex-Token", "xxxxx", "media-%05d.ts"},
		Cwd:   "/var/lib/plexmediaserver/Cache/Transcode/Sessions/plex-transcode-4f2a9c1e-77",
		Input: "/media/Movies/The Matrix (1999)/The Matrix.mkv",
		Output: local.Output{Dir: "/var/lib/plexmediaserver/Cache/Transcode/Sessions/plex-transcode-4f2a9c1e-77",
			Known: true, Files: 13, Segments: 12, Bytes: 34 << 20,
			Newest: testNow.Add(-3 * time.Second), LastActive: testNow.Add(-3 * time.Second)},
		Key: "4f2a9c1e", KeySource: local.KeySourceArgs, Link: local.LinkLinked, LinkSince: testNow.Add(-12 * time.Minute),
		Session: &local.Session{Server: "Home", SessionKey: "12", User: "alice", Title: "The Matrix",
			Player: "Alice’s laptop", Product: "Plex Web", State: "playing", TranscodeKey: "4f2a9c1e"},
		CanKill: true,
	}
}

func orphanTranscoder() local.Transcoder {
	return local.Transcoder{
		PID: 4310, Name: "Plex Transcoder", Kind: local.KindPlex, Owner: "plex", State: "sleep",
		Started: testNow.Add(-6 * time.Minute), Uptime: 6 * time.Minute,
		CPUPercent: 40, CPUSampled: true, RSS: 198 << 20,
		Output: local.Output{Known: true, Segments: 40, Bytes: 120 << 20,
			Newest: testNow.Add(-45 * time.Second), LastActive: testNow.Add(-45 * time.Second)},
		Key: "77ab", Link: local.LinkOrphan, LinkSince: testNow.Add(-2 * time.Minute),
	}
}

func backgroundTranscoder() local.Transcoder {
	return local.Transcoder{
		PID: 5120, Name: "Plex Transcoder", Kind: local.KindPlex, Owner: "plex",
		Started: testNow.Add(-time.Minute), Uptime: time.Minute, RSS: 88 << 20,
		Output: local.Output{Err: "permission denied"},
		Link:   local.LinkBackground, Job: "credits detection",
	}
}

// fixedScan is the scan of the golden tests.
func fixedScan() *local.Scan {
	return &local.Scan{
		Seq: 3, Time: testNow, Processes: 212,
		Transcoders: []local.Transcoder{linkedTranscoder(), orphanTranscoder(), backgroundTranscoder()},
		Stale: []local.StaleSession{{Key: "9d01e", Since: testNow.Add(-90 * time.Second),
			Session: &local.Session{User: "bob", Title: "Severance - S01E03"}}},
		Plex: local.PlexStatus{Asked: true},
	}
}

func newTranscodersUI(t *testing.T, l *fakeLocal) *UI {
	t.Helper()
	u := newOptsUI(t, newFakeBackend(), Options{TrayHost: true, Local: l})
	u.tabs.Select(u.transcodersTab)
	return u
}

func TestTranscodersGolden(t *testing.T) {
	u := newTranscodersUI(t, &fakeLocal{})
	u.applyLocal(fixedScan())
	u.transcoders.table.Select(widget.TableCellID{Row: 0, Col: 1})
	test.AssertRendersToMarkup(t, "transcoders.xml", u.Window().Canvas())
}

func TestTranscodersTabOptional(t *testing.T) {
	u := newOptsUI(t, newFakeBackend(), Options{})
	if u.transcodersTab != nil || u.transcoders != nil || len(u.tabs.Items) != 3 {
		t.Fatalf("without Options.Local: %d tabs, Transcoders %v; want only Now Playing, Sessions and Settings", len(u.tabs.Items), u.transcodersTab)
	}
	u.applyLocal(fixedScan()) // still feeds the tooltip
	if u.localScan == nil {
		t.Error("scan dropped without a Transcoders tab")
	}
}

func TestTranscodersEmptyState(t *testing.T) {
	u := newTranscodersUI(t, &fakeLocal{})
	v := u.transcoders
	if got, want := v.empty.Text, "Looking for transcoder processes…"; !v.empty.Visible() || got != want {
		t.Errorf("before the first scan: empty state %q (visible %v), want %q", got, v.empty.Visible(), want)
	}

	u.applyLocal(&local.Scan{Time: testNow, Plex: local.PlexStatus{Asked: true}})
	if got, want := v.empty.Text, "No transcoder processes on this computer."; got != want {
		t.Errorf("empty state = %q, want %q", got, want)
	}
	if v.table.Visible() || v.note.Visible() {
		t.Error("table or Plex note shown with no transcoders on a local server")
	}

	u.applyLocal(&local.Scan{Time: testNow}) // Plex not asked: the server is elsewhere
	if got := v.empty.Text; !strings.HasPrefix(got, "No transcoder processes on this computer.\n") || !strings.Contains(got, "not on this computer") {
		t.Errorf("empty state with a remote server = %q, want a note that the server is not local", got)
	}

	// The desktop app asks, but no connected server is on this computer:
	// say that Plex runs elsewhere and how to clean up there.
	u.applyLocal(&local.Scan{Time: testNow, Plex: local.PlexStatus{Asked: true, Err: local.ErrNoLocalServer.Error(), Elsewhere: true}})
	if got := v.empty.Text; !strings.Contains(got, "runs on another computer") || !strings.Contains(got, `"plexwarden watch" on the server`) {
		t.Errorf("empty state with the server elsewhere = %q, want where it runs and how to clean up there", got)
	}
	// …and the server's own view of its transcodes (/transcode/sessions).
	u.applyLocal(&local.Scan{Time: testNow, Plex: local.PlexStatus{Asked: true, Err: local.ErrNoLocalServer.Error(), Elsewhere: true,
		Remote: []local.RemoteJob{
			{Server: "home", Key: "4f2a9c", Context: "streaming", Video: "transcode", Speed: 1.5, Throttled: true, HW: true, Progress: 42},
			{Server: "home", Key: "77b0", Context: "static", Video: "transcode", Speed: 3, Progress: 10},
		}}})
	for _, want := range []string{"The server's own view of its transcodes:",
		"home · key 4f2a9c · transcode · 1.5× · throttled (ahead of the viewer) · HW · 42%",
		"home · key 77b0 · sync / download / optimize · 3.0× · 10%"} {
		if got := v.empty.Text; !strings.Contains(got, want) {
			t.Errorf("empty state = %q, want a line %q", got, want)
		}
	}

	u.applyLocal(fixedScan())
	if !v.table.Visible() || v.empty.Visible() {
		t.Error("table hidden or empty state shown with transcoders")
	}
	if !v.stale.Visible() || !strings.Contains(v.staleLs.Text, "stale: no process · key 9d01e · bob · Severance - S01E03") {
		t.Errorf("stale sessions %q (visible %v)", v.staleLs.Text, v.stale.Visible())
	}

	scan := fixedScan()
	scan.Plex.Err = "plex: connection refused"
	scan.Stale = nil
	u.applyLocal(scan)
	if !v.note.Visible() || !strings.HasSuffix(v.note.Text, "plex: connection refused") {
		t.Errorf("note %q (visible %v), want why Plex could not be asked", v.note.Text, v.note.Visible())
	}
	if v.stale.Visible() {
		t.Error("stale sessions shown after they went away")
	}
}

// killButtons returns the visible Kill… buttons of the table, top to
// bottom. It walks the renderers the canvas uses: test.LaidOutObjects
// builds fresh renderers, and a fresh table renderer has no cells yet.
func killButtons(t *testing.T, u *UI) []*widget.Button {
	t.Helper()
	var out []*widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch c := o.(type) {
		case *widget.Button:
			if c.Text == "Kill…" {
				out = append(out, c)
			}
		case fyne.Widget:
			for _, child := range test.WidgetRenderer(c).Objects() {
				walk(child)
			}
		case *fyne.Container:
			for _, child := range c.Objects {
				walk(child)
			}
		}
	}
	walk(u.transcoders.table)
	d := fyne.CurrentApp().Driver()
	slices.SortFunc(out, func(a, b *widget.Button) int {
		return int(d.AbsolutePositionForObject(a).Y - d.AbsolutePositionForObject(b).Y)
	})
	return out
}

// dialogText joins the texts of the labels in o.
func dialogText(o fyne.CanvasObject) string {
	var texts []string
	for _, obj := range test.LaidOutObjects(o) {
		if l, ok := obj.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	}
	return strings.Join(texts, "\n")
}

func TestKillFlow(t *testing.T) {
	l := &fakeLocal{res: local.KillResult{Name: "Plex Transcoder", Signals: []string{"SIGTERM"}}}
	u := newTranscodersUI(t, l)
	u.applyLocal(fixedScan())
	w := u.Window()

	buttons := killButtons(t, u)
	if len(buttons) != 3 {
		t.Fatalf("%d Kill… buttons, want one per transcoder (3)", len(buttons))
	}
	test.Tap(buttons[1]) // the orphan
	overlay := w.Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("Kill… opened no dialog")
	}
	text := dialogText(overlay)
	for _, want := range []string{"Kill PID 4310 (Plex Transcoder), run by plex?", "orphan since 12:03", killHow()} {
		if !strings.Contains(text, want) {
			t.Errorf("dialog says %q, want it to contain %q", text, want)
		}
	}
	test.Tap(findButton(t, overlay, "Kill"))
	u.bg.Wait()

	orphan := orphanTranscoder()
	if got := l.calls(); len(got) != 1 || got[0] != orphan.ID() {
		t.Fatalf("backend killed %v, want [%v]", got, orphan.ID())
	}
	if w.Canvas().Overlays().Top() != nil {
		t.Error("dialog still open after Kill")
	}
	v := u.transcoders
	if got, want := v.result.Text, "Stopped PID 4310 (Plex Transcoder) with SIGTERM."; got != want || !v.resultBox.Visible() {
		t.Errorf("result %q (visible %v), want %q", got, v.resultBox.Visible(), want)
	}
	if v.result.Importance != widget.SuccessImportance {
		t.Errorf("result importance %v, want success", v.result.Importance)
	}

	// Refused: the remedy shows, on its own line, selectable.
	pe := &local.PermissionError{PID: 4242, Name: "Plex Transcoder", Owner: "plex", Self: "bob", Err: syscall.EPERM}
	l.mu.Lock()
	l.err = pe
	l.mu.Unlock()
	test.Tap(killButtons(t, u)[0])
	overlay = w.Canvas().Overlays().Top()
	if text := dialogText(overlay); !strings.Contains(text, "It transcodes alice · The Matrix · Alice’s laptop: that stream stops.") ||
		!strings.Contains(text, "Stop transcode in the Sessions tab is cleaner") {
		t.Errorf("dialog for a linked transcoder says %q, want the session named and Stop transcode suggested", text)
	}
	test.Tap(findButton(t, overlay, "Kill"))
	u.bg.Wait()
	remedy := pe.Error()[strings.Index(pe.Error(), "runs as bob. ")+len("runs as bob. "):]
	got := v.result.Text
	if !strings.HasPrefix(got, "Permission denied: PID 4242 (Plex Transcoder) belongs to user plex and Plex Warden runs as bob.\n") ||
		!strings.HasSuffix(got, remedy) {
		t.Errorf("permission result %q, want the reason, a line break and the remedy %q", got, remedy)
	}
	if !v.result.Selectable || v.result.Importance != widget.DangerImportance || v.result.Wrapping != fyne.TextWrapWord {
		t.Error("permission result not selectable, red and wrapped")
	}
	alice := linkedTranscoder()
	if got := l.calls(); len(got) != 2 || got[1] != alice.ID() {
		t.Errorf("backend killed %v, want alice's transcoder second", got)
	}
}

func TestKillCancel(t *testing.T) {
	l := &fakeLocal{}
	u := newTranscodersUI(t, l)
	u.applyLocal(fixedScan())
	test.Tap(killButtons(t, u)[0])
	test.Tap(findButton(t, u.Window().Canvas().Overlays().Top(), "Cancel"))
	u.bg.Wait()
	if got := l.calls(); len(got) != 0 {
		t.Errorf("Cancel killed %v", got)
	}
}

func TestKillGoneBeforeTap(t *testing.T) {
	l := &fakeLocal{}
	u := newTranscodersUI(t, l)
	u.applyLocal(fixedScan())
	kill := killButtons(t, u)[1]
	scan := fixedScan()
	scan.Transcoders = scan.Transcoders[:1] // the orphan exited; its row is reused or gone
	u.transcoders.scan = scan               // as if the tap raced the refresh
	test.Tap(kill)
	if u.Window().Canvas().Overlays().Top() != nil {
		t.Error("dialog opened for a process that exited")
	}
	if got := u.transcoders.result.Text; got != "PID 4310 has already exited." {
		t.Errorf("result %q", got)
	}
}

func TestKillResultText(t *testing.T) {
	pe := &local.PermissionError{PID: 7, Name: "ffmpeg", Owner: "plex", Self: "bob", Err: syscall.EPERM}
	tests := []struct {
		name    string
		res     local.KillResult
		err     error
		want    string // the whole text, or its prefix when wantSub is set
		wantSub string
		imp     widget.Importance
	}{
		{"sigterm", local.KillResult{PID: 7, Name: "ffmpeg", Signals: []string{"SIGTERM"}}, nil,
			"Stopped PID 7 (ffmpeg) with SIGTERM.", "", widget.SuccessImportance},
		{"sigkill", local.KillResult{PID: 7, Name: "ffmpeg", Signals: []string{"SIGTERM", "SIGKILL"}, Forced: true, Took: 5 * time.Second}, nil,
			"PID 7 (ffmpeg) did not exit after SIGTERM; killed it with SIGKILL after 5s.", "", widget.SuccessImportance},
		{"no name in result", local.KillResult{PID: 7, Signals: []string{"SIGTERM"}}, nil,
			"Stopped PID 7 (ffmpeg) with SIGTERM.", "", widget.SuccessImportance},
		{"gone before signal", local.KillResult{PID: 7, Name: "ffmpeg", Gone: true}, nil,
			"PID 7 (ffmpeg) had already exited.", "", widget.MediumImportance},
		{"no process", local.KillResult{}, fmt.Errorf("PID 7: %w", local.ErrNoProcess),
			"PID 7 (ffmpeg) is already gone.", "", widget.MediumImportance},
		{"permission", local.KillResult{}, pe,
			"Permission denied: PID 7 (ffmpeg) belongs to user plex and Plex Warden runs as bob.\n", "or stop the transcode through Plex", widget.DangerImportance},
		{"not a transcoder", local.KillResult{}, &local.NotTranscoderError{PID: 7, Name: "bash", Names: []string{"ffmpeg"}},
			"Did not kill PID 7 (ffmpeg): PID 7 is \"bash\", not a transcoder", "", widget.DangerImportance},
		{"still running", local.KillResult{}, fmt.Errorf("PID 7: %w", local.ErrStillRunning),
			"PID 7 (ffmpeg) is still running after SIGKILL", "", widget.DangerImportance},
		{"other", local.KillResult{}, errors.New("boom"),
			"Could not kill PID 7 (ffmpeg): boom", "", widget.DangerImportance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, imp := killResultText(7, "ffmpeg", tt.res, tt.err)
			exact := tt.wantSub == "" && !strings.Contains(tt.name, "not a transcoder") && tt.name != "still running"
			switch {
			case exact && got != tt.want:
				t.Errorf("killResultText() = %q, want %q", got, tt.want)
			case !exact && !strings.HasPrefix(got, tt.want):
				t.Errorf("killResultText() = %q, want it to start with %q", got, tt.want)
			case tt.wantSub != "" && !strings.Contains(got, tt.wantSub):
				t.Errorf("killResultText() = %q, want it to contain %q", got, tt.wantSub)
			}
			if imp != tt.imp {
				t.Errorf("importance %v, want %v", imp, tt.imp)
			}
		})
	}
}

func TestTrayTooltip(t *testing.T) {
	unsampled := backgroundTranscoder()
	a, b := linkedTranscoder(), orphanTranscoder()
	a.CPUPercent, b.CPUPercent = 95, 40
	b.Link = local.LinkLinked
	tests := []struct {
		name string
		st   *app.State
		scan *local.Scan
		want string
	}{
		{"no scan", stateOf(app.Connected, aliceSession(), bobSession(), carolSession()), nil,
			"Plex Warden — 3 streams, 1 transcoding"},
		{"no transcoders", stateOf(app.Connected, aliceSession()), &local.Scan{},
			"Plex Warden — 1 stream, 1 transcoding"},
		{"two", stateOf(app.Connected, aliceSession(), bobSession(), carolSession()),
			&local.Scan{Transcoders: []local.Transcoder{a, b}},
			"Plex Warden — 3 streams, 1 transcoding · 2 local transcoders (135% CPU)"},
		{"not sampled yet", stateOf(app.Connected), &local.Scan{Transcoders: []local.Transcoder{unsampled}},
			"Plex Warden — Nothing playing · 1 local transcoder"},
		{"orphans", stateOf(app.Connected), fixedScan(),
			"Plex Warden — Nothing playing · 3 local transcoders (135% CPU, 1 orphan)"},
		{"no server", &app.State{}, &local.Scan{Transcoders: []local.Transcoder{a}},
			"Plex Warden — no server yet · 1 local transcoder (95% CPU)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trayTooltip(tt.st, tt.scan); got != tt.want {
				t.Errorf("trayTooltip(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestTrayTooltipFollowsScans(t *testing.T) {
	u := newTranscodersUI(t, &fakeLocal{})
	host := &fakeTrayHost{}
	var tips []string
	u.tray = newTray(u, host)
	u.tray.setTooltip = func(s string) { tips = append(tips, s) }
	u.tray.later = func(_ time.Duration, fn func()) { fn() }
	u.Start()
	u.apply(stateOf(app.Connected, aliceSession()))
	u.applyLocal(fixedScan())
	want := "Plex Warden — 1 stream, 1 transcoding · 3 local transcoders (135% CPU, 1 orphan)"
	if len(tips) == 0 || tips[len(tips)-1] != want {
		t.Errorf("tooltips %q, want the last to be %q", tips, want)
	}
}

func TestLinkText(t *testing.T) {
	linked, orphan, bg := linkedTranscoder(), orphanTranscoder(), backgroundTranscoder()
	static := linkedTranscoder()
	static.Session = &local.Session{Context: "static"}
	bare := linkedTranscoder()
	bare.Session = nil
	noJob := backgroundTranscoder()
	noJob.Job = ""
	tests := []struct {
		name string
		t    local.Transcoder
		want string
	}{
		{"linked", linked, "alice · The Matrix"},
		{"linked without a session", bare, "linked"},
		{"sync job", static, "sync / download job"},
		{"orphan", orphan, "orphan since 12:03"},
		{"background", bg, "background: credits detection"},
		{"background, job unknown", noJob, "background job"},
		{"external", local.Transcoder{Link: local.LinkExternal}, "not a Plex job"},
		{"key only", local.Transcoder{Link: local.LinkKeyOnly}, "key only"},
		{"unknown", local.Transcoder{Link: local.LinkUnknown}, "unknown (Plex not reachable)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := linkText(&tt.t); got != tt.want {
				t.Errorf("linkText(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestOutputText(t *testing.T) {
	tests := []struct {
		name string
		o    local.Output
		want string
	}{
		{"writing", local.Output{Known: true, Segments: 12, Bytes: 34 << 20,
			Newest: testNow.Add(-3 * time.Second), LastActive: testNow.Add(-3 * time.Second)},
			"12 segments · 34.0 MiB · last write 3s ago"},
		{"idle", local.Output{Known: true, Segments: 40, Bytes: 120 << 20,
			Newest: testNow.Add(-45 * time.Second), LastActive: testNow.Add(-45 * time.Second)},
			"40 segments · 120.0 MiB · idle 45s"},
		{"single file", local.Output{Known: true, File: "/tmp/out.mkv", Files: 1, Bytes: 2048,
			Newest: testNow.Add(-time.Second), LastActive: testNow.Add(-time.Second)},
			"2.0 KiB · last write 1s ago"},
		{"nothing yet", local.Output{Known: true}, "0 segments · 0 B · nothing written yet"},
		{"unreadable", local.Output{Err: "permission denied"}, "not measurable: permission denied"},
		{"unknown", local.Output{}, "not measurable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outputText(tt.o, testNow); got != tt.want {
				t.Errorf("outputText(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"ffmpeg", "-i", "in.mkv"}, "ffmpeg -i in.mkv"},
		{[]string{"/usr/lib/plexmediaserver/Plex Transcoder", "-i", "/m/It's here.mkv"},
			`'/usr/lib/plexmediaserver/Plex Transcoder' -i '/m/It'\''s here.mkv'`},
		{[]string{"a", ""}, "a ''"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := commandLine(tt.args); got != tt.want {
			t.Errorf("commandLine(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestTranscodersSort(t *testing.T) {
	u := newTranscodersUI(t, &fakeLocal{})
	u.applyLocal(fixedScan())
	v := u.transcoders
	pids := func() string {
		var out []string
		for _, tc := range v.rows {
			out = append(out, fmt.Sprint(tc.PID))
		}
		return strings.Join(out, ",")
	}
	if got := pids(); got != "4242,4310,5120" {
		t.Errorf("default order %s, want the scan's (oldest first)", got)
	}
	v.sortBy(columnNamed(transcoderColumns, "CPU"))
	if got := pids(); got != "5120,4310,4242" {
		t.Errorf("by CPU %s, want 5120,4310,4242", got)
	}
	v.sortBy(columnNamed(transcoderColumns, "CPU"))
	if got := pids(); got != "4242,4310,5120" {
		t.Errorf("by CPU, descending %s, want 4242,4310,5120", got)
	}

	// The selection follows the process across scans and re-sorts.
	v.table.Select(widget.TableCellID{Row: 2, Col: 0})
	if v.selected.PID != 5120 {
		t.Fatalf("selected %v, want PID 5120", v.selected)
	}
	v.sortBy(columnNamed(transcoderColumns, "PID"))
	if idx := v.selectedIndex(); idx != 2 || v.rows[idx].PID != 5120 {
		t.Errorf("selection at row %d after sorting by PID", idx)
	}
	scan := fixedScan()
	scan.Transcoders = scan.Transcoders[:2]
	u.applyLocal(scan)
	if !strings.HasSuffix(v.heading.Text, "(exited)") {
		t.Errorf("heading %q, want the exited process marked", v.heading.Text)
	}
}

func TestPostLocalCoalesces(t *testing.T) {
	u := newTranscodersUI(t, &fakeLocal{})
	const posts = 500
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the scanner's goroutine
		defer wg.Done()
		for i := range posts {
			s := fixedScan()
			s.Seq = uint64(i)
			u.PostLocal(s)
		}
		u.PostLocal(nil) // ignored
	}()
	wg.Wait()
	u.bg.Wait()
	if u.localScan == nil || u.localScan.Seq != posts-1 {
		t.Fatalf("applied scan %+v, want the last posted (seq %d)", u.localScan, posts-1)
	}
	if got := len(u.transcoders.rows); got != 3 {
		t.Errorf("%d rows, want 3", got)
	}
}

func TestTabsWithOptionalViews(t *testing.T) {
	withAutostart(t, false, nil)
	u := newOptsUI(t, newFakeBackend(), Options{Local: &fakeLocal{}, Diag: &fakeDiag{}})
	var got []string
	for _, it := range u.tabs.Items {
		got = append(got, it.Text)
	}
	if want := "Now Playing,Sessions,Transcoders,Diagnostics,Settings"; strings.Join(got, ",") != want {
		t.Errorf("tabs %v, want %s", got, want)
	}
	u.openAddServer()
	if u.tabs.Selected() != u.settingsTab {
		t.Errorf("Add your Plex server… selected %q, want Settings", u.tabs.Selected().Text)
	}
	u.trayAction(trayItem{Action: trayTerminate, Key: "gone"})
	if u.tabs.Selected() != u.sessionsTab {
		t.Errorf("tray Terminate… selected %q, want Sessions", u.tabs.Selected().Text)
	}
}

// TestEmptyLocalText: with no local transcoder, the tab says why, and on
// the demo server that its transcodes are simulated, with the server's
// own view of them; never that a real server runs elsewhere.
func TestEmptyLocalText(t *testing.T) {
	scan := &local.Scan{}
	scan.Plex.Asked, scan.Plex.Elsewhere = true, true
	scan.Plex.Remote = []local.RemoteJob{{Server: "Demo server", Key: "abc", Video: "transcode", Speed: 1.5, Progress: 42}}
	tests := []struct {
		name       string
		demo       bool
		want, not  string
		wantRemote bool
	}{
		{"demo", true, "The demo server is simulated", "runs on another computer", true},
		{"server elsewhere", false, "Your Plex server runs on another computer", "demo server", true},
	}
	for _, tt := range tests {
		got := emptyLocalText(scan, tt.demo)
		if !strings.Contains(got, tt.want) || strings.Contains(got, tt.not) {
			t.Errorf("%s: %q, want it to say %q and not %q", tt.name, got, tt.want, tt.not)
		}
		if strings.Contains(got, "Demo server · key abc · transcode · 1.5× · 42%") != tt.wantRemote {
			t.Errorf("%s: %q, want the server's own view of its transcodes", tt.name, got)
		}
	}
}
