package ui

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/plexwarden/plexwarden/app"
)

func TestTrayMenu(t *testing.T) {
	alice, bob := aliceSession(), bobSession()
	pauseLabel := "Pause automatic rules"
	tail := func(paused bool) []trayItem {
		return []trayItem{
			{Separator: true},
			{Label: pauseLabel, Checked: paused, Action: trayToggleRules},
			{Label: "Open Plex Warden", Action: trayOpen},
			{Separator: true},
			{Label: "Quit", Action: trayQuit},
		}
	}
	with := func(head []trayItem, paused bool) []trayItem { return append(head, tail(paused)...) }
	aliceItem := trayItem{Label: "alice · The Matrix · Transcode (HEVC 4K→1080p)", Children: []trayItem{
		{Label: "Terminate…", Action: trayTerminate, Key: alice.Key()},
		{Label: "Terminate all of alice’s streams…", Action: trayTerminateUser, Key: alice.Key()},
		{Label: "Stop transcode", Action: trayStopTranscode, Key: alice.Key()},
	}}
	bobItem := trayItem{Label: "bob · Severance - S01E03 - In Perpetuity · Direct Play", Children: []trayItem{
		{Label: "Terminate…", Action: trayTerminate, Key: bob.Key()},
		{Label: "Terminate all of bob’s streams…", Action: trayTerminateUser, Key: bob.Key()},
	}}

	twoServers := stateOf(app.Connected, bob)
	cabinBob := bob
	cabinBob.Server = "Cabin"
	twoServers.Servers = append(twoServers.Servers, app.Snapshot{Server: "Cabin",
		Conn: app.Conn{Status: app.Unreachable}}.WithSessions(cabinBob))

	tests := []struct {
		name   string
		st     *app.State
		paused bool
		want   []trayItem
	}{
		{"no server", &app.State{}, false, with([]trayItem{{Label: "No server yet", Disabled: true}}, false)},
		{"idle, rules paused", stateOf(app.Connected), true, with([]trayItem{{Label: "Nothing playing", Disabled: true}}, true)},
		{"transcode listed first, only it can stop its transcode", stateOf(app.Connected, bob, alice), false,
			with([]trayItem{{Label: "2 streams, 1 transcoding", Disabled: true}, aliceItem, bobItem}, false)},
		// A server that is down: its sessions are last known, not counted,
		// and cannot be acted on (issue 14.3).
		{"several servers: problems and server names", twoServers, false, with([]trayItem{
			{Label: "1 stream · Cabin down", Disabled: true},
			{Label: "⚠ Cabin: unreachable", Disabled: true},
			{Label: "bob · Severance - S01E03 - In Perpetuity · Direct Play — Cabin", Children: []trayItem{
				{Label: "Server down — last known", Disabled: true}}},
			{Label: "bob · Severance - S01E03 - In Perpetuity · Direct Play — Demo server", Children: []trayItem{
				{Label: "Terminate…", Action: trayTerminate, Key: bob.Key()},
				{Label: "Terminate all of bob’s streams…", Action: trayTerminateUser, Key: bob.Key()}}},
		}, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := trayMenu(tt.st, tt.paused)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("trayMenu:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestTrayMenuLimits(t *testing.T) {
	var sessions []app.Session
	for i := range 20 {
		s := bobSession()
		s.User, s.SessionKey = fmt.Sprintf("user%02d", i), fmt.Sprint(i)
		s.Title = "A very long title that goes on and on beyond any menu width"
		sessions = append(sessions, s)
	}
	items := trayMenu(stateOf(app.Connected, sessions...), false)
	// summary + 15 sessions + "… and 5 more" + separator, pause, open, separator, quit
	if len(items) != 1+maxTraySessions+1+5 {
		t.Fatalf("%d items, want %d", len(items), 1+maxTraySessions+1+5)
	}
	if got, want := items[1+maxTraySessions].Label, "… and 5 more (open Plex Warden)"; got != want {
		t.Errorf("overflow item %q, want %q", got, want)
	}
	if got, want := items[1].Label, "user00 · A very long title that goes on and on b… · Direct Play"; got != want {
		t.Errorf("long title item %q, want %q", got, want)
	}
}

func TestTrayIconFor(t *testing.T) {
	problem := stateOf(app.Connected, aliceSession())
	problem.Servers = append(problem.Servers, &app.Snapshot{Server: "Home", Conn: app.Conn{Status: app.Unauthorized}})
	tests := []struct {
		name   string
		st     *app.State
		paused bool
		want   trayIcon
	}{
		{"no server", &app.State{}, false, iconIdle},
		{"idle", stateOf(app.Connected), false, iconIdle},
		{"reconnecting is not a problem yet", stateOf(app.Reconnecting), false, iconIdle},
		{"playing", stateOf(app.Connected, bobSession(), carolSession()), false, iconPlaying},
		{"transcoding", stateOf(app.Connected, bobSession(), aliceSession()), false, iconTranscoding},
		{"unreachable", stateOf(app.Unreachable, aliceSession()), false, iconProblem},
		{"problem beats transcoding", problem, false, iconProblem},
		{"paused beats transcoding", stateOf(app.Connected, aliceSession()), true, iconPaused},
		{"problem beats paused", problem, true, iconProblem},
	}
	for _, tt := range tests {
		if got := trayIconFor(tt.st, tt.paused); got != tt.want {
			t.Errorf("trayIconFor(%s) = %d, want %d", tt.name, got, tt.want)
		}
	}
	for i, r := range trayIcons {
		if r == nil || len(r.Content()) == 0 {
			t.Errorf("tray icon %d is empty", i)
		}
	}
}

func TestFyneMenu(t *testing.T) {
	alice := aliceSession()
	var got []trayItem
	m := fyneMenu(trayMenu(stateOf(app.Connected, alice), true), func(it trayItem) { got = append(got, it) })
	labels := func(items []*fyne.MenuItem) []string {
		var out []string
		for _, it := range items {
			if it.IsSeparator {
				out = append(out, "---")
			} else {
				out = append(out, it.Label)
			}
		}
		return out
	}
	want := []string{"1 stream, 1 transcoding", "alice · The Matrix · Transcode (HEVC 4K→1080p)", "---", "Pause automatic rules", "Open Plex Warden", "---", "Quit"}
	if l := labels(m.Items); !reflect.DeepEqual(l, want) {
		t.Fatalf("menu %q, want %q", l, want)
	}
	if !m.Items[0].Disabled || m.Items[0].Action != nil {
		t.Error("summary item is not a disabled label")
	}
	if !m.Items[3].Checked {
		t.Error("pause item not checked while paused")
	}
	child := m.Items[1].ChildMenu
	if child == nil || !reflect.DeepEqual(labels(child.Items), []string{"Terminate…", "Terminate all of alice’s streams…", "Stop transcode"}) {
		t.Fatalf("session submenu = %+v", child)
	}
	child.Items[2].Action()
	if len(got) != 1 || got[0].Action != trayStopTranscode || got[0].Key != alice.Key() {
		t.Errorf("Stop transcode ran %+v, want trayStopTranscode for %s", got, alice.Key())
	}
	child.Items[1].Action()
	if len(got) != 2 || got[1].Action != trayTerminateUser || got[1].Key != alice.Key() {
		t.Errorf("Terminate all of alice’s streams… ran %+v, want trayTerminateUser for %s", got, alice.Key())
	}
}

// fakeTrayHost records what the tray pushes.
type fakeTrayHost struct {
	mu    sync.Mutex
	menus []*fyne.Menu
	icons []fyne.Resource
}

func (h *fakeTrayHost) SetSystemTrayMenu(m *fyne.Menu) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.menus = append(h.menus, m)
}

func (h *fakeTrayHost) SetSystemTrayIcon(r fyne.Resource) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.icons = append(h.icons, r)
}

func TestTrayDebounce(t *testing.T) {
	b := newFakeBackend()
	u := newTestUI(t, b, nil)
	host := &fakeTrayHost{}
	var tips []string
	u.tray = newTray(u, host)
	u.tray.setTooltip = func(s string) { tips = append(tips, s) }
	// The debounce timer, fired by the test on its own goroutine: the test
	// driver would run fyne.Do on the timer's goroutine, beside the test.
	var timers []func()
	u.tray.later = func(_ time.Duration, fn func()) { timers = append(timers, fn) }
	fire := func() {
		for len(timers) > 0 {
			fn := timers[0]
			timers = timers[1:]
			fn()
		}
	}

	u.apply(stateOf(app.Connected)) // first: rendered at once
	if len(host.menus) != 1 || len(host.icons) != 1 || host.icons[0] != trayIcons[iconIdle] {
		t.Fatalf("first update: %d menus, icons %v; want one menu and the idle icon", len(host.menus), host.icons)
	}
	if len(tips) != 0 {
		t.Errorf("tooltip set before Start: %q", tips)
	}

	// A burst of different states: one more render, with the last of them.
	for i := range 50 {
		sessions := []app.Session{bobSession()}
		if i == 49 {
			sessions = append(sessions, aliceSession())
		}
		u.apply(stateOf(app.Connected, sessions...))
	}
	if len(timers) != 1 || len(host.menus) != 1 {
		t.Fatalf("a burst right after a render scheduled %d timers and pushed %d menus, want 1 timer and no new menu", len(timers), len(host.menus)-1)
	}
	fire()
	if len(host.menus) != 2 {
		t.Fatalf("%d menus after a burst, want 2 (debounced)", len(host.menus))
	}
	if got := host.menus[1].Items[0].Label; got != "2 streams, 1 transcoding" {
		t.Errorf("debounced menu shows %q, want the last state", got)
	}
	if last := host.icons[len(host.icons)-1]; last != trayIcons[iconTranscoding] {
		t.Errorf("icon %v, want the transcoding icon", last)
	}

	// The same state again: nothing to push.
	u.apply(stateOf(app.Connected, bobSession(), aliceSession()))
	fire()
	if len(host.menus) != 2 {
		t.Errorf("%d menus after an unchanged state, want 2", len(host.menus))
	}

	u.Start()
	if len(tips) != 1 || tips[0] != "Plex Warden — 2 streams, 1 transcoding" {
		t.Errorf("tooltips after Start %q", tips)
	}

	// Pausing from the tray updates the check at once (within the debounce).
	u.trayAction(trayItem{Action: trayToggleRules})
	fire()
	if !b.RulesPaused() || !u.settings.paused.Checked {
		t.Error("trayToggleRules did not pause the rules and tick the Settings check")
	}
	last := host.menus[len(host.menus)-1]
	if item := last.Items[len(last.Items)-4]; item.Label != "Pause automatic rules" || !item.Checked {
		t.Errorf("tray pause item %+v, want checked", item)
	}
	// Paused shows everywhere (issue 14.2): icon, tooltip, window strip.
	if got := host.icons[len(host.icons)-1]; got != trayIcons[iconPaused] {
		t.Errorf("tray icon %s while paused, want the paused icon", got.Name())
	}
	if got := tips[len(tips)-1]; !strings.HasSuffix(got, " · rules paused") {
		t.Errorf("tooltip %q while paused, want it to say rules paused", got)
	}
	if !u.pausedBar.Visible() {
		t.Error("the window does not say the rules are paused")
	}
	test.Tap(findButton(t, u.pausedBar, "Resume rules"))
	fire()
	if b.RulesPaused() || u.pausedBar.Visible() || strings.Contains(tips[len(tips)-1], "paused") {
		t.Errorf("after Resume: paused %v, strip %v, tooltip %q", b.RulesPaused(), u.pausedBar.Visible(), tips[len(tips)-1])
	}
}
