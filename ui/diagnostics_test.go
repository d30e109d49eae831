package ui

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app/diag"
)

// fakeDiag serves fixed diagnostics and counts the pulls. The UI pulls on
// its goroutine; tests change the data between pulls, hence the mutex.
type fakeDiag struct {
	mu        sync.Mutex
	players   []diag.PlayerSummary
	timelines map[string][]diag.TimelineEntry // by player id, oldest first
	active    []diag.Finding
	pulls     int
}

func (f *fakeDiag) Players() []diag.PlayerSummary {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pulls++
	return f.players
}

func (f *fakeDiag) Timeline(_, playerID string) []diag.TimelineEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.timelines[playerID] // the real detector returns a copy; the view must not change it
}

func (f *fakeDiag) Active() []diag.Finding {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active
}

func (f *fakeDiag) pullCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pulls
}

const testCollisionSummary = `Probable client-identifier collision: "Inception" (movie, Plex Web on Den) was replaced by ` +
	`"Blue Train" (track, Plexamp on Den) at the same moment with the same player id web-alice-01.`

// fixedDiag is the diagnostics of the golden test: a collision on alice's
// player id, a storm from bob's Roku, and a quiet iPhone.
func fixedDiag() *fakeDiag {
	at := func(s int) time.Time { return testNow.Add(time.Duration(s) * time.Second) }
	return &fakeDiag{
		players: []diag.PlayerSummary{
			{Server: "Home", PlayerID: "web-alice-01", Title: "Den", Products: []string{"Plex Web", "Plexamp"},
				Devices: []string{"Windows"}, Users: []string{"alice"}, Live: 1, Starts: 2, Ends: 1, LastSeen: at(-20), Collision: true},
			{Server: "Home", PlayerID: "roku-7781", Title: "Living room", Products: []string{"Plex for Roku"},
				Devices: []string{"Roku Ultra"}, Users: []string{"bob"}, Live: 1, Starts: 48, Transcodes: 52, Ends: 47,
				LastSeen: at(-25), Storming: true},
			{Server: "Home", PlayerID: "ios-carol", Title: "Carol’s iPhone", Products: []string{"Plex for iOS"},
				Devices: []string{"iPhone"}, Users: []string{"carol"}, LastSeen: at(-600)},
		},
		timelines: map[string][]diag.TimelineEntry{
			"web-alice-01": {
				{Time: at(-50), Event: diag.EntryStart, Server: "Home", PlayerID: "web-alice-01", SessionKey: "31",
					Title: "Inception", Type: "movie", Product: "Plex Web", Device: "Windows", User: "alice"},
				{Time: at(-20), Event: diag.EntryEnd, Server: "Home", PlayerID: "web-alice-01", SessionKey: "31",
					Title: "Inception", Type: "movie", Product: "Plex Web", Device: "Windows", User: "alice"},
				{Time: at(-20), Event: diag.EntryStart, Server: "Home", PlayerID: "web-alice-01", SessionKey: "32",
					Title: "Blue Train", Type: "track", Product: "Plexamp", Device: "Windows", User: "alice"},
				{Time: at(-20), Event: diag.EntryCollision, Server: "Home", PlayerID: "web-alice-01", SessionKey: "32",
					Title: "Blue Train", Type: "track", Product: "Plexamp", Device: "Windows", User: "alice", Note: testCollisionSummary},
			},
			"roku-7781": {
				{Time: at(-40), Event: diag.EntryTranscode, Server: "Home", PlayerID: "roku-7781", SessionKey: "40",
					TranscodeKey: "tc-1", Title: "Severance", Product: "Plex for Roku", User: "bob"},
				{Time: at(-25), Event: diag.EntryStorm, Server: "Home", PlayerID: "roku-7781", User: "bob",
					Note: "Transcode storm: Living room started 52 new transcodes in the last 2 minutes."},
			},
		},
		active: []diag.Finding{
			{ID: "collision/Home/web-alice-01/1", Kind: diag.KindCollision, Cause: diag.CauseReplaced, Server: "Home",
				PlayerID: "web-alice-01", User: "alice", Time: at(-20), Summary: testCollisionSummary,
				Remedy: "Give each player its own client identifier.", Counts: diag.Counts{Collisions: 1}},
			{ID: "storm/Home/roku-7781/1", Kind: diag.KindStorm, Cause: diag.CausePlayer, Server: "Home",
				PlayerID: "roku-7781", User: "bob", Time: at(-25),
				Summary: "Transcode storm: Plex for Roku on Living room started 52 new transcodes and 48 new sessions in the last 2 minutes.",
				Remedy:  "Stop this player's transcodes, then restart the app on that device.",
				Counts:  diag.Counts{Sessions: 48, Transcodes: 52, Window: 2 * time.Minute}},
		},
	}
}

func newDiagUI(t *testing.T, d *fakeDiag) *UI {
	t.Helper()
	u := newOptsUI(t, newFakeBackend(), Options{TrayHost: true, Diag: d})
	u.tabs.Select(u.diagTab)
	return u
}

func TestDiagnosticsGolden(t *testing.T) {
	u := newDiagUI(t, fixedDiag())
	// The first flagged player is selected: its timeline holds the evidence.
	u.diag.table.Select(widget.TableCellID{Row: 0, Col: 1})
	test.AssertRendersToMarkup(t, "diagnostics.xml", u.Window().Canvas())
}

func TestDiagnosticsEmpty(t *testing.T) {
	u := newDiagUI(t, &fakeDiag{})
	v := u.diag
	if !v.empty.Visible() || v.main.Visible() {
		t.Fatal("empty state hidden (or the lists shown) with nothing seen")
	}
	if got := v.empty.Text; got != diagEmptyText || !strings.HasPrefix(got, "No collisions or storms seen.") {
		t.Errorf("empty state = %q", got)
	}
}

func TestDiagnosticsBannerAndTimeline(t *testing.T) {
	d := fixedDiag()
	u := newDiagUI(t, d)
	v := u.diag
	if !v.scroll.Visible() || len(v.banner.Objects) != 2 {
		t.Fatalf("banner visible %v with %d findings, want 2 shown", v.scroll.Visible(), len(v.banner.Objects))
	}
	// Collision first (warning colour), storm second (error colour).
	for i, want := range []string{"warning", "error"} {
		text := test.LaidOutObjects(v.banner.Objects[i])
		var title string
		for _, o := range text {
			if rt, ok := o.(*widget.RichText); ok {
				seg := rt.Segments[0].(*widget.TextSegment)
				title = seg.Text
				if string(seg.Style.ColorName) != want {
					t.Errorf("finding %d (%s) coloured %q, want %q", i, title, seg.Style.ColorName, want)
				}
				if got := rt.String(); !strings.Contains(got, d.active[i].Summary) || !strings.Contains(got, "What to do: "+d.active[i].Remedy) {
					t.Errorf("finding %d says %q, want the summary and the remedy", i, got)
				}
			}
		}
		if title != d.active[i].Title() {
			t.Errorf("finding %d titled %q, want %q", i, title, d.active[i].Title())
		}
	}

	// The first flagged player is selected, its timeline newest first.
	if !v.hasSel || v.selected.id != "web-alice-01" {
		t.Fatalf("selected %+v, want web-alice-01", v.selected)
	}
	if got := v.timeline[0].Event; got != diag.EntryCollision {
		t.Errorf("first timeline row %v, want the newest (collision)", got)
	}
	if got := d.timelines["web-alice-01"][0].Event; got != diag.EntryStart {
		t.Errorf("the backend's timeline was reordered: first entry %v", got)
	}

	// Another player.
	v.list.Select(1)
	if v.selected.id != "roku-7781" || len(v.timeline) != 2 || v.timeline[0].Event != diag.EntryStorm {
		t.Errorf("after selecting the Roku: %+v, timeline %+v", v.selected, v.timeline)
	}
	if !strings.Contains(v.tlHead.Text, "Living room") {
		t.Errorf("timeline heading %q, want the player named", v.tlHead.Text)
	}
	v.table.Select(widget.TableCellID{Row: 1, Col: 0})
	if got := v.detail.Text; !v.detail.Visible() || !strings.Contains(got, "transcode tc-1") || !strings.Contains(got, "Severance") {
		t.Errorf("entry detail %q (visible %v)", got, v.detail.Visible())
	}

	// New data: the selection stays on the Roku, the storm calmed down.
	d.mu.Lock()
	d.active = d.active[:1]
	d.players = append([]diag.PlayerSummary{{Server: "Home", PlayerID: "new-one", LastSeen: testNow}}, d.players...)
	d.players[2].Storming = false
	d.mu.Unlock()
	u.applyDiag()
	if v.selected.id != "roku-7781" || v.listIndex != 2 {
		t.Errorf("selection %+v at row %d, want the Roku at row 2", v.selected, v.listIndex)
	}
	if len(v.banner.Objects) != 1 {
		t.Errorf("%d findings shown, want 1", len(v.banner.Objects))
	}
	if !v.hasEntry || !strings.Contains(v.detail.Text, "tc-1") {
		t.Errorf("selected timeline entry lost: %q", v.detail.Text)
	}
}

func TestPostDiag(t *testing.T) {
	d := fixedDiag()
	u := newDiagUI(t, d)
	before := d.pullCount()
	start := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the monitor's goroutine after each detector update
		defer wg.Done()
		for range 1000 {
			u.PostDiag()
		}
		d.mu.Lock()
		d.active = nil
		d.mu.Unlock()
		u.PostDiag()
	}()
	wg.Wait()
	u.bg.Wait()
	elapsed := time.Since(start)
	pulls := d.pullCount() - before
	if limit := int(elapsed/applyInterval) + 2; pulls > limit || pulls < 1 {
		t.Errorf("%d pulls in %v, want 1 to %d (coalesced, ≤10 per second)", pulls, elapsed, limit)
	}
	if u.diag.scroll.Visible() {
		t.Error("banner still shown after the last signal said no findings")
	}
	if got := u.diagTab.Text; got != "Diagnostics" {
		t.Errorf("tab title with no findings = %q, want %q", got, "Diagnostics")
	}
}

// The tab's title counts the active findings, so they are seen from any tab.
func TestDiagnosticsTabCount(t *testing.T) {
	d := fixedDiag()
	u := newOptsUI(t, newFakeBackend(), Options{TrayHost: true, Diag: d})
	if got, want := u.diagTab.Text, fmt.Sprintf("Diagnostics (%d)", len(d.active)); got != want {
		t.Errorf("tab title at start = %q, want %q", got, want)
	}
	d.mu.Lock()
	d.active = d.active[:1]
	d.mu.Unlock()
	u.diag.refresh()
	if got := u.diagTab.Text; got != "Diagnostics (1)" {
		t.Errorf("tab title with one finding = %q, want %q", got, "Diagnostics (1)")
	}
}

func TestDiagnosticsTabOptional(t *testing.T) {
	u := newOptsUI(t, newFakeBackend(), Options{})
	if u.diagTab != nil || u.diag != nil {
		t.Error("Diagnostics tab without Options.Diag")
	}
	u.PostDiag() // harmless
	u.bg.Wait()
}

func TestPlayerTexts(t *testing.T) {
	p := fixedDiag().players
	tests := []struct {
		name                string
		p                   diag.PlayerSummary
		title, detail, flag string
		imp                 widget.Importance
	}{
		{"collision", p[0], "Den · Plex Web + Plexamp (Windows) · alice",
			"Home · id web-alice-01 · 1 live · recent: 2 starts, 1 end", "collision", widget.WarningImportance},
		{"storm", p[1], "Living room · Plex for Roku (Roku Ultra) · bob",
			"Home · id roku-7781 · 1 live · recent: 48 starts, 52 transcodes, 47 ends", "storm", widget.DangerImportance},
		{"quiet", p[2], "Carol’s iPhone · Plex for iOS (iPhone) · carol",
			"Home · id ios-carol · not playing", "", widget.MediumImportance},
		{"both", diag.PlayerSummary{Server: "Home", PlayerID: "0123456789abcdef0123456789abcdef", Devices: []string{"Linux"},
			Collision: true, Storming: true},
			"id 0123456789abcdef0123456… · Linux", "Home · id 0123456789abcdef0123456… · not playing",
			"storm, collision", widget.DangerImportance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := playerTitle(&tt.p); got != tt.title {
				t.Errorf("playerTitle() = %q, want %q", got, tt.title)
			}
			if got := playerDetail(&tt.p); got != tt.detail {
				t.Errorf("playerDetail() = %q, want %q", got, tt.detail)
			}
			if got, imp := playerFlags(&tt.p); got != tt.flag || imp != tt.imp {
				t.Errorf("playerFlags() = %q, %v, want %q, %v", got, imp, tt.flag, tt.imp)
			}
		})
	}
}

func TestEntryDetail(t *testing.T) {
	tl := fixedDiag().timelines["web-alice-01"]
	tests := []struct {
		name string
		e    diag.TimelineEntry
		want string
	}{
		{"start", tl[0], "12:04:10 · start · Inception (movie) · session 31 · alice · Plex Web on Windows"},
		{"collision", tl[3], "12:04:40 · collision · Blue Train (track) · session 32 · alice · Plexamp on Windows\n" + testCollisionSummary},
		{"calm", diag.TimelineEntry{Time: testNow, Event: diag.EntryCalm, Note: "storm calmed down"}, "12:05:00 · calm\nstorm calmed down"},
		{"transcode end", diag.TimelineEntry{Time: testNow, Event: diag.EntryTranscodeEnd, Device: "iPhone"}, "12:05:00 · transcode ended · iPhone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := entryDetail(&tt.e); got != tt.want {
				t.Errorf("entryDetail() = %q, want %q", got, tt.want)
			}
		})
	}
}
