package ui

import (
	"fmt"
	"reflect"
	"time"

	"fyne.io/fyne/v2"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/assets"
)

// trayAction is what a tray menu item does.
type trayAction int

// Tray menu actions.
const (
	trayNone          trayAction = iota // a label
	trayTerminate                       // open the window and the terminate dialog for Key
	trayTerminateUser                   // open the window and the dialog terminating all streams of Key's user
	trayStopTranscode                   // stop the transcode of Key
	trayToggleRules                     // pause or resume the automatic rules
	trayOpen                            // show the main window
	trayQuit                            // quit the app
)

// trayItem is one entry of the tray menu model. The model holds no Fyne
// types so that it can be compared and tested; fyneMenu renders it.
type trayItem struct {
	Label     string
	Disabled  bool
	Checked   bool
	Separator bool
	Action    trayAction
	Key       string // session key for session actions
	Children  []trayItem
}

// trayPauseLabel is the rules switch of the tray menu: a check box, ticked
// while the rules are paused (a tray host that can draws the box either way).
const trayPauseLabel = "Pause automatic rules"

// maxTraySessions bounds the session entries of the tray menu; the window
// lists them all.
const maxTraySessions = 15

// maxTrayTitle bounds a title in a menu label, in runes.
const maxTrayTitle = 40

// trayMenu is the tray menu for st: a summary, servers that need
// attention, one entry per live session (transcodes first) with its
// actions, then the rules switch, "Open Plex Warden" and Quit. (Fyne 2.8.1
// appends its own Quit to a tray menu only after rendering it, so a menu
// rebuilt from scratch, as ours is, would never show it.)
func trayMenu(st *app.State, paused bool) []trayItem {
	summary := "No server yet"
	if len(st.Servers) > 0 {
		summary = summaryText(st)
	}
	items := []trayItem{{Label: summary, Disabled: true}}
	for _, p := range problemTexts(st) {
		items = append(items, trayItem{Label: "⚠ " + p, Disabled: true})
	}
	sessions := st.Sessions()
	sortSessions(sessions, sessionOrder{})
	multi := len(st.Servers) > 1
	down := downServers(st)
	for i := range sessions {
		if i == maxTraySessions {
			items = append(items, trayItem{Label: fmt.Sprintf("… and %d more (open Plex Warden)", len(sessions)-i), Disabled: true})
			break
		}
		s := &sessions[i]
		children := []trayItem{{Label: "Terminate…", Action: trayTerminate, Key: s.Key()},
			{Label: terminateUserLabel(s.User), Action: trayTerminateUser, Key: s.Key()}}
		if s.TranscodeKey != "" {
			children = append(children, trayItem{Label: "Stop transcode", Action: trayStopTranscode, Key: s.Key()})
		}
		if at, ok := down[s.Server]; ok { // as last known: nothing to act on
			children = []trayItem{{Label: "Server down — " + lastKnownText(at, nil), Disabled: true}}
		}
		items = append(items, trayItem{Label: traySessionLabel(s, multi), Children: children})
	}
	return append(items,
		trayItem{Separator: true},
		trayItem{Label: trayPauseLabel, Checked: paused, Action: trayToggleRules},
		trayItem{Label: "Open Plex Warden", Action: trayOpen},
		trayItem{Separator: true},
		trayItem{Label: "Quit", Action: trayQuit},
	)
}

// traySessionLabel is "alice · The Matrix · Transcode (HEVC 4K→1080p)",
// with the server appended when there are several.
func traySessionLabel(s *app.Session, withServer bool) string {
	label := joinDot(s.User, truncate(s.Title, maxTrayTitle), decisionText(s))
	if withServer {
		label += " — " + s.Server
	}
	return label
}

// trayIcon is the state the tray icon shows.
type trayIcon int

// Tray icon states, in increasing priority.
const (
	iconIdle trayIcon = iota
	iconPlaying
	iconTranscoding
	iconPaused
	iconProblem
)

// trayIconFor picks the icon: a problem (a server rejected its token or is
// unreachable) beats paused rules, which beat transcoding, which beats
// playing, which beats idle.
func trayIconFor(st *app.State, paused bool) trayIcon {
	for _, sn := range st.Servers {
		if sn.Conn.Status.Problem() {
			return iconProblem
		}
	}
	switch streams, transcodes := st.Counts(); {
	case paused:
		return iconPaused
	case transcodes > 0:
		return iconTranscoding
	case streams > 0:
		return iconPlaying
	}
	return iconIdle
}

// trayIcons are the embedded icons by state.
var trayIcons = [...]fyne.Resource{
	iconIdle:        fyne.NewStaticResource("tray-idle.png", assets.TrayIdle),
	iconPlaying:     fyne.NewStaticResource("tray-playing.png", assets.TrayPlaying),
	iconTranscoding: fyne.NewStaticResource("tray-transcoding.png", assets.TrayTranscoding),
	iconPaused:      fyne.NewStaticResource("tray-paused.png", withPauseMark(assets.TrayIdle)),
	iconProblem:     fyne.NewStaticResource("tray-problem.png", assets.TrayProblem),
}

// pausedTooltip adds "rules paused" to the tray tooltip while the rules
// are paused.
func pausedTooltip(tip string, paused bool) string {
	if paused {
		return tip + " · rules paused"
	}
	return tip
}

// fyneMenu renders the model; act runs an item's action (on the UI
// goroutine: Fyne dispatches tray clicks there). Closures capture the item,
// whose Key names the session, never a position.
func fyneMenu(items []trayItem, act func(trayItem)) *fyne.Menu {
	return fyne.NewMenu("Plex Warden", menuItems(items, act)...)
}

func menuItems(items []trayItem, act func(trayItem)) []*fyne.MenuItem {
	out := make([]*fyne.MenuItem, 0, len(items))
	for _, it := range items {
		if it.Separator {
			out = append(out, fyne.NewMenuItemSeparator())
			continue
		}
		mi := fyne.NewMenuItem(it.Label, nil)
		mi.Disabled, mi.Checked = it.Disabled, it.Checked
		mi.IsQuit = it.Action == trayQuit // Fyne then adds no second Quit
		if it.Action != trayNone {
			mi.Action = func() { act(it) }
		}
		if len(it.Children) > 0 {
			mi.ChildMenu = fyne.NewMenu("", menuItems(it.Children, act)...)
		}
		out = append(out, mi)
	}
	return out
}

// trayHost is what the tray drives: systrayHost (fyne.io/systray) in the
// app, a fake in tests. Its methods keep desktop.App's names.
type trayHost interface {
	SetSystemTrayMenu(*fyne.Menu)
	SetSystemTrayIcon(fyne.Resource)
}

// trayInterval is the least time between two tray rebuilds. Every menu
// change is a full rebuild over DBus on Linux (systray.ResetMenu and one
// goroutine per item), so a busy feed must not rebuild it ten times a second.
const trayInterval = 500 * time.Millisecond

// tray keeps the system tray in step with the state, rebuilding it only
// when the model changed and at most twice a second. UI goroutine only.
type tray struct {
	u          *UI
	host       trayHost
	setTooltip func(string)
	// later runs fn on the UI goroutine after d (time.AfterFunc + fyne.Do);
	// tests replace it to fire the timer themselves.
	later func(d time.Duration, fn func())

	want, shown  trayView
	rendered     bool
	tooltipShown string
	scheduled    bool
	last         time.Time
}

// trayView is everything the tray shows.
type trayView struct {
	items   []trayItem
	icon    trayIcon
	tooltip string
}

func newTray(u *UI, host trayHost) *tray {
	return &tray{u: u, host: host, setTooltip: setTrayTooltip, later: u.later}
}

// update computes the tray for st and renders it now or after the
// debounce interval.
func (t *tray) update(st *app.State) {
	paused := t.u.b.RulesPaused()
	t.want = trayView{items: trayMenu(st, paused), icon: trayIconFor(st, paused), tooltip: pausedTooltip(trayTooltip(st, t.u.localScan), paused)}
	if t.scheduled || (t.rendered && reflect.DeepEqual(t.want, t.shown)) {
		return // the scheduled render picks up t.want
	}
	wait := trayInterval - time.Since(t.last)
	if wait <= 0 {
		t.render()
		return
	}
	t.scheduled = true
	t.later(wait, func() {
		t.scheduled = false
		t.render()
	})
}

// render pushes what changed to the tray.
func (t *tray) render() {
	t.last = time.Now()
	if !t.rendered || !reflect.DeepEqual(t.want.items, t.shown.items) {
		t.host.SetSystemTrayMenu(fyneMenu(t.want.items, t.u.trayAction))
	}
	if !t.rendered || t.want.icon != t.shown.icon {
		t.host.SetSystemTrayIcon(trayIcons[t.want.icon])
	}
	t.shown, t.rendered = t.want, true
	t.renderTooltip()
}

// renderTooltip sets the tooltip once the app runs: before, the tray window
// may not exist yet (systray logs an error on Windows).
func (t *tray) renderTooltip() {
	if t.u.started && t.want.tooltip != t.tooltipShown {
		t.setTooltip(t.want.tooltip)
		t.tooltipShown = t.want.tooltip
	}
}

// start is called once the app runs.
func (t *tray) start() { t.renderTooltip() }

// trayAction runs a tray menu item's action (UI goroutine).
func (u *UI) trayAction(it trayItem) {
	switch it.Action {
	case trayTerminate:
		u.showWindow()
		u.tabs.Select(u.sessionsTab)
		u.confirmTerminate(it.Key)
	case trayTerminateUser:
		u.showWindow()
		u.tabs.Select(u.sessionsTab)
		u.confirmTerminateUser(it.Key)
	case trayStopTranscode:
		u.stopTranscode(it.Key)
	case trayToggleRules:
		u.setRulesPaused(!u.b.RulesPaused())
		if u.rules != nil {
			u.rules.syncPaused()
		}
		u.updatePaused()
	case trayOpen:
		u.showWindow()
	case trayQuit:
		u.Quit()
	}
}
