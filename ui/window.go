package ui

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
)

// windowSize is the main window's initial size.
var windowSize = fyne.NewSize(1100, 650)

// Tab indexes of the main window without the optional tabs (Transcoders
// and Diagnostics sit between Sessions and Settings when configured). The
// code selects tabs by item (u.sessionsTab, u.settingsTab).
const (
	tabNowPlaying = iota
	tabSessions
	tabSettings
)

// buildWindow creates the main window, hidden: a demo banner, the tabs
// (more views such as rules and history slot in here) and the status bar.
func (u *UI) buildWindow() {
	u.win = u.app.NewWindow("Plex Warden")
	u.win.Resize(windowSize)
	if u.opts.SignIn != nil {
		u.signIn = newSignInFlow(u, u.opts.SignIn)
	}
	u.sessions = newSessionsView(u)
	u.settings = newSettingsView(u)
	u.sessionsTab = container.NewTabItemWithIcon("Sessions", theme.MediaPlayIcon(), u.sessions.content)
	u.settingsTab = container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), u.settings.content)
	u.nowPlaying = newNowPlayingView(u, u.opts.Thumbs)
	u.nowPlayingTab = container.NewTabItemWithIcon("Now Playing", theme.MediaVideoIcon(), u.nowPlaying.content)
	items := []*container.TabItem{u.nowPlayingTab, u.sessionsTab}
	if u.opts.Local != nil {
		u.transcoders = newTranscodersView(u, u.opts.Local)
		u.transcodersTab = container.NewTabItemWithIcon("Transcoders", theme.ComputerIcon(), u.transcoders.content)
		items = append(items, u.transcodersTab)
	}
	if u.opts.Diag != nil {
		u.diag = newDiagView(u, u.opts.Diag)
		u.diagTab = container.NewTabItemWithIcon("Diagnostics", theme.InfoIcon(), u.diag.content)
		items = append(items, u.diagTab)
	}
	if u.opts.Rules != nil {
		u.rules = newRulesView(u, u.opts.Rules)
		u.rulesTab = container.NewTabItemWithIcon("Rules", theme.ListIcon(), u.rules.content)
		items = append(items, u.rulesTab)
	}
	if u.opts.History != nil {
		u.history = newHistoryView(u, u.opts.History)
		u.historyTab = container.NewTabItemWithIcon("History", theme.HistoryIcon(), u.history.content)
		items = append(items, u.historyTab)
	}
	u.tabs = container.NewAppTabs(append(items, u.settingsTab)...)
	u.tabs.OnSelected = u.tabSelected
	if u.diag != nil {
		u.setDiagCount(len(u.diag.findings)) // its first refresh came before the tab existed
	}
	u.banner = u.newBanner()
	u.status = newStatusBar(u)
	u.pausedBar = u.newPausedBar()
	u.top = container.NewVBox(u.banner, u.pausedBar)
	if !u.opts.TrayHost {
		u.top.Add(newNoTrayNotice())
	}
	u.win.SetContent(container.NewBorder(u.top, u.status.content, nil, nil, u.tabs))
	u.setCloseBehaviour()
	u.setupKeys()
}

// setCloseBehaviour makes closing the window hide it while a tray can bring
// it back, and quit the app when none can.
func (u *UI) setCloseBehaviour() {
	if u.opts.TrayHost {
		u.win.SetCloseIntercept(u.win.Hide)
	} else {
		u.win.SetCloseIntercept(u.Quit)
	}
}

// newBanner is the demo strip: it says the sessions are simulated and
// offers to add a real server.
func (u *UI) newBanner() fyne.CanvasObject {
	bg := canvas.NewRectangle(withAlpha(theme.Color(theme.ColorNameWarning), 0x40))
	text := widget.NewLabelWithStyle("Demo server — these sessions are simulated.", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	add := widget.NewButtonWithIcon("Add your Plex server…", theme.ContentAddIcon(), u.openAddServer)
	add.Importance = widget.HighImportance
	buttons := fyne.CanvasObject(add)
	if u.signIn != nil {
		// Signing in is the easy way: it leads; adding by URL and token stays.
		add.Importance = widget.MediumImportance
		buttons = container.NewHBox(u.signIn.newButton(), add)
	}
	row := container.NewBorder(nil, nil, container.NewHBox(widget.NewIcon(theme.InfoIcon()), text), buttons)
	banner := container.NewStack(bg, container.NewPadded(row))
	banner.Hide()
	return banner
}

// newPausedBar is the strip that says the automatic rules are paused,
// with a button to resume them.
func (u *UI) newPausedBar() fyne.CanvasObject {
	bg := canvas.NewRectangle(withAlpha(theme.Color(theme.ColorNameWarning), 0x40))
	text := widget.NewLabelWithStyle(pausedText, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	text.Wrapping = fyne.TextWrapWord
	resume := widget.NewButtonWithIcon("Resume rules", theme.MediaPlayIcon(), func() {
		u.setRulesPaused(false)
		if u.rules != nil {
			u.rules.syncPaused()
		}
		u.updatePaused()
	})
	row := container.NewBorder(nil, nil, widget.NewIcon(theme.MediaPauseIcon()), resume, text)
	bar := container.NewStack(bg, container.NewPadded(row))
	bar.Hide()
	return bar
}

// pausedText is the window's strip while the rules are paused.
const pausedText = "Automatic rules paused: no rule acts until you resume them."

// updatePaused shows the paused strip while the rules are paused (UI
// goroutine). Every state calls it, and so does every pause switch the UI
// owns; the tray follows through setRulesPaused.
func (u *UI) updatePaused() {
	if u.pausedBar == nil {
		return
	}
	if setVisible(u.pausedBar, u.top, u.b.RulesPaused()) {
		u.win.Content().Refresh()
	}
}

// updateBanner shows the demo banner while the demo server is among the
// servers (or before the first state arrives in demo mode). Once a state
// came without it, the demo has stopped (a server was added, then perhaps
// signed out of): no banner.
func (u *UI) updateBanner() {
	show := false
	if u.opts.Demo {
		show = !u.gotState
		for _, sn := range u.state.Servers {
			show = show || sn.Demo
		}
	}
	if setVisible(u.banner, u.top, show) {
		u.win.Content().Refresh()
	}
	u.updatePaused()
}

// noTrayText says why the window stays open and what to install.
const noTrayText = "No system tray found on this desktop, so Plex Warden runs in this window and closing it quits. " +
	"To keep it in the tray, install a StatusNotifierItem host (GNOME: the AppIndicator extension; other panels: snixembed)."

// newNoTrayNotice is shown when no tray host (StatusNotifierWatcher) is
// present: a tray-only app would otherwise be invisible.
func newNoTrayNotice() fyne.CanvasObject {
	text := widget.NewLabel(noTrayText)
	text.Wrapping = fyne.TextWrapWord
	text.Importance = widget.LowImportance
	return container.NewBorder(nil, nil, widget.NewIcon(theme.InfoIcon()), nil, text)
}

// openAddServer shows the add-server form in Settings.
func (u *UI) openAddServer() {
	u.showWindow()
	u.tabs.Select(u.settingsTab)
	u.win.Canvas().Focus(u.settings.url)
}

// tabSelected brings a tab up to date when it is shown (UI goroutine).
// Diagnostics ages (counts "in the last 2 minutes", findings that lapse)
// even when no event arrives, so it pulls afresh. Rules shows the pause
// switch that Settings may have changed; History reads the files again.
func (u *UI) tabSelected(item *container.TabItem) {
	switch {
	case item == nil:
	case item == u.diagTab:
		u.applyDiag()
	case item == u.rulesTab:
		u.rules.shown()
	case item == u.historyTab:
		u.history.query()
	}
}

// setVisible shows or hides o and lays parent out again when that changed:
// Fyne recomputes a container's layout only when the container refreshes.
// It reports whether anything changed.
func setVisible(o, parent fyne.CanvasObject, show bool) bool {
	if o.Visible() == show {
		return false
	}
	if show {
		o.Show()
	} else {
		o.Hide()
	}
	if parent != nil {
		parent.Refresh()
	}
	return true
}

func withAlpha(c color.Color, a uint8) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}

// statusBar is the bottom of the window: the last action's result and one
// status line per server.
type statusBar struct {
	u       *UI
	result  *widget.Label
	lines   *fyne.Container
	icons   []*widget.Icon
	labels  []*widget.Label
	ticking bool // a refresh of retry countdowns is scheduled
	wasDown bool // a server was down at the last state
	content fyne.CanvasObject
}

func newStatusBar(u *UI) *statusBar {
	b := &statusBar{u: u, result: widget.NewLabel(""), lines: container.NewVBox()}
	b.result.Wrapping = fyne.TextWrapWord
	b.result.Hide()
	b.content = container.NewVBox(widget.NewSeparator(), b.result, b.lines)
	return b
}

// showResult shows an action's progress or result (UI goroutine).
func (b *statusBar) showResult(text string, imp widget.Importance) {
	b.result.Importance = imp
	b.result.SetText(text)
	setVisible(b.result, b.content, true)
}

// setState shows one line per server, coloured by its connection state
// (UI goroutine).
func (b *statusBar) setState(st *app.State, now time.Time) {
	if len(b.labels) != len(st.Servers) {
		b.lines.RemoveAll()
		b.icons, b.labels = nil, nil
		for range st.Servers {
			icon, label := widget.NewIcon(nil), widget.NewLabel("")
			label.Truncation = fyne.TextTruncateEllipsis
			b.icons, b.labels = append(b.icons, icon), append(b.labels, label)
			b.lines.Add(container.NewBorder(nil, nil, icon, nil, label))
		}
	}
	// The failure line of an action clears once every server is back.
	down := len(downServers(st)) > 0
	if b.wasDown && !down && b.result.Importance == widget.DangerImportance {
		setVisible(b.result, b.content, false)
	}
	b.wasDown = down
	countdown := false
	for i, sn := range st.Servers {
		imp := connImportance(sn.Conn.Status)
		b.icons[i].SetResource(connIcon(imp))
		b.labels[i].Importance = imp
		b.labels[i].SetText(serverLine(sn, now))
		countdown = countdown || (!sn.Conn.NextRetry.IsZero() && sn.Conn.NextRetry.After(now))
	}
	if countdown && !b.ticking && b.u.started {
		// "retry in 4s" must count down between updates (on a running app:
		// tests with a fixed clock would tick forever).
		b.ticking = true
		b.u.later(time.Second, func() {
			b.ticking = false
			b.setState(b.u.state, b.u.now())
		})
	}
}

// connImportance colours a connection state: connected green, on its way
// orange, needing the admin red.
func connImportance(c app.ConnStatus) widget.Importance {
	switch c {
	case app.Connected:
		return widget.SuccessImportance
	case app.Connecting, app.Reconnecting:
		return widget.WarningImportance
	case app.Unauthorized, app.Unreachable, app.NoToken:
		return widget.DangerImportance
	}
	return widget.LowImportance
}

// connIcon is a dot in the colour of imp.
func connIcon(imp widget.Importance) fyne.Resource {
	dot := theme.MediaRecordIcon()
	switch imp {
	case widget.SuccessImportance:
		return theme.NewSuccessThemedResource(dot)
	case widget.WarningImportance:
		return theme.NewWarningThemedResource(dot)
	case widget.DangerImportance:
		return theme.NewErrorThemedResource(dot)
	}
	return theme.NewDisabledResource(dot)
}
