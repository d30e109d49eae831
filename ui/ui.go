// Package ui is Plex Warden's desktop interface: the main window (sessions,
// settings), the system tray and desktop notifications, built with Fyne.
//
// Threading: widgets change only on Fyne's UI goroutine. Background data
// comes in through one door per kind: immutable *app.State values through
// UI.Post, local transcoder scans through UI.PostLocal, and "diagnostics
// changed" signals through UI.PostDiag. Each door coalesces and applies the
// newest at most ten times a second. Fyne callbacks (taps, tray menu
// actions) already run on the UI goroutine. Slow work (HTTP calls to Plex,
// killing a process, signing in, DBus notifications) runs in goroutines
// that report back through fyne.Do.
//
// The package takes a fyne.App and never imports fyne.io/fyne/v2/app, so its
// tests run headless with test.NewTempApp (CGO_ENABLED=0, -tags ci).
package ui

import (
	"context"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/plexwarden/plexwarden/app"
	"github.com/plexwarden/plexwarden/app/local"
)

// Backend is what the UI needs from the domain; app implements it, tests
// fake it. Terminate, TerminateUser, StopTranscode, AddServer, RemoveServer and SignOut
// may block and are called off the UI goroutine; the others must return
// quickly.
type Backend interface {
	// Terminate stops session s, showing message to the viewer.
	Terminate(ctx context.Context, s app.Session, message string) app.Result
	// UserSessions lists the live streams of s's user on every server (s
	// included): what TerminateUser would stop.
	UserSessions(s app.Session) []app.Session
	// TerminateUser stops every live stream of s's user on every server,
	// each with message, or with its player's default message when
	// message is "".
	TerminateUser(ctx context.Context, s app.Session, message string) []app.SessionResult
	// StopTranscode kills the transcode of s.
	StopTranscode(ctx context.Context, s app.Session) app.Result
	// DefaultMessage is the terminate message prefilled for s.
	DefaultMessage(s app.Session) string
	// Config returns the current configuration.
	Config() app.Config
	// UpdateConfig changes the configuration with fn and persists it; the
	// error says clearly what went wrong.
	UpdateConfig(fn func(*app.Config)) error
	// AddServer checks the server at ns.URL with ns.Token, stores the
	// token in the keyring and starts watching it; it returns the server's
	// name.
	AddServer(ctx context.Context, ns app.NewServer) (name string, err error)
	// RemoveServer stops watching the server and forgets its token.
	RemoveServer(name string) error
	// SignOut stops watching every configured server and deletes their
	// tokens from the keyring; the servers stay configured. It returns how
	// many servers it signed out of; an unavailable keyring is an error.
	SignOut(ctx context.Context) (int, error)
	// SetRulesPaused pauses or resumes the automatic rules.
	SetRulesPaused(paused bool)
	// RulesPaused reports whether the automatic rules are paused.
	RulesPaused() bool
}

// Options configures the UI.
type Options struct {
	// Demo: the built-in demo server is running; the window shows a banner
	// and opens at start even when a tray is available.
	Demo bool
	// Version is shown in Settings.
	Version string
	// TrayHost: a StatusNotifierWatcher (or the platform's tray) is present
	// (see TrayHostAvailable). Without one the window opens at start and
	// closing it quits, because a hidden window could not be reopened.
	TrayHost bool
	// Now is the clock for status lines, relative times and notifications;
	// nil means time.Now. Tests fix it so golden files are stable.
	Now func() time.Time
	// Local kills local transcoder processes for the Transcoders tab; nil
	// leaves the tab out (scans given to PostLocal still reach the tray
	// tooltip).
	Local LocalBackend
	// Diag answers the Diagnostics tab (collisions and transcode storms);
	// nil leaves the tab out.
	Diag DiagBackend
	// SignIn signs in with a Plex account and adds its servers; nil leaves
	// out the "Sign in with Plex…" buttons.
	SignIn SignInBackend
	// Rules reads, previews and saves the automatic rules for the Rules
	// tab; nil leaves the tab out.
	Rules RulesBackend
	// History answers the History tab (every action, manual or by a rule)
	// and exports it; nil leaves the tab out.
	History HistoryBackend
	// Thumbs fetches the Now Playing view's posters; nil shows placeholders.
	Thumbs ThumbBackend
	// Alerts applies the notification switches Settings saves and runs
	// the alert channels; nil: the switches are only saved.
	Alerts AlertsBackend
}

// applyInterval bounds how often a door (Post, PostLocal, PostDiag)
// applies: at most ten times a second, however busy the feed.
const applyInterval = 100 * time.Millisecond

// actionTimeout bounds one terminate, stop-transcode, add-server or kill
// call.
const actionTimeout = 30 * time.Second

// UI is the window, tray and notifications of one app. Create it with New
// on the UI goroutine (before fyne.App.Run is fine).
type UI struct {
	app    fyne.App
	b      Backend
	opts   Options
	now    func() time.Time
	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup // short-lived goroutines and timers of the UI (tests wait on it)

	// The doors in (see door): Post, PostLocal and PostDiag.
	stateDoor door[app.State]
	localDoor door[local.Scan]
	diagDoor  door[struct{}]

	// Owned by the UI goroutine.
	state     *app.State
	gotState  bool            // a state from the domain arrived (not just New's empty one)
	applies   int             // states applied (tests)
	started   bool            // Start ran
	busy      map[string]bool // session keys with an action in flight
	win       fyne.Window
	tabs      *container.AppTabs
	sessions  *sessionsView
	settings  *settingsView
	banner    fyne.CanvasObject
	pausedBar fyne.CanvasObject // "Automatic rules paused" with Resume
	dialog    dialog.Dialog     // the dialog shown last, which Esc closes
	top       *fyne.Container   // banner and notices above the tabs
	status    *statusBar
	tray      *tray        // nil when the app has no system tray
	systray   *systrayHost // the real tray behind tray on Linux and the BSDs; nil in tests and elsewhere

	// The optional views (UI goroutine too).
	sessionsTab, settingsTab *container.TabItem
	transcodersTab, diagTab  *container.TabItem // nil without Options.Local, Options.Diag
	localScan                *local.Scan        // the latest scan, nil before the first
	transcoders              *transcodersView   // nil without Options.Local
	diag                     *diagView          // nil without Options.Diag
	signIn                   *signInFlow        // nil without Options.SignIn
	rulesTab, historyTab     *container.TabItem // nil without Options.Rules, Options.History
	rules                    *rulesView         // nil without Options.Rules
	history                  *historyView       // nil without Options.History
	nowPlaying               *nowPlayingView
	nowPlayingTab            *container.TabItem
}

// New builds the main window (hidden) and, when a implements desktop.App
// (the real desktop driver, not a test app), the tray, which on Linux and
// the BSDs it drives through fyne.io/systray (see systrayHost: no GL
// window at start). Call it
// on the main goroutine before fyne.App.Run, then Start from the app's
// Lifecycle OnStarted hook and Stop from OnStopped.
func New(a fyne.App, b Backend, opts Options) *UI {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &UI{
		app:    a,
		b:      b,
		opts:   opts,
		now:    now,
		ctx:    ctx,
		cancel: cancel,
		busy:   map[string]bool{},
		state:  &app.State{},
	}
	u.stateDoor = door[app.State]{apply: u.apply, interval: applyInterval, bg: &u.bg}
	u.localDoor = door[local.Scan]{apply: u.applyLocal, interval: applyInterval, bg: &u.bg}
	u.diagDoor = door[struct{}]{apply: func(*struct{}) { u.applyDiag() }, interval: applyInterval, bg: &u.bg}
	useContrastTheme(a)
	u.buildWindow()
	if desk, ok := a.(desktop.App); ok {
		u.tray = newTray(u, u.newTrayHost(desk))
	}
	u.render(u.state)
	return u
}

// Window returns the main window.
func (u *UI) Window() fyne.Window { return u.win }

// Start shows the window when there is no tray to open it from (or in demo
// mode) and sets the tray tooltip. Call it
// once from fyne.App.Lifecycle().SetOnStarted.
func (u *UI) Start() {
	if u.started {
		return
	}
	u.started = true
	if !u.opts.TrayHost || u.opts.Demo {
		u.win.Show()
	}
	if u.systray != nil {
		u.systray.run()
	}
	if u.tray != nil {
		u.tray.start()
	}
}

// Quit takes the tray down and quits the app (UI goroutine). The tray
// (Linux and the BSDs: systrayHost) goes first, while Fyne's loop still
// runs, as Fyne's own Quit does with its tray; elsewhere Fyne's Quit takes
// its own tray down.
func (u *UI) Quit() {
	if u.systray != nil {
		u.systray.end()
	}
	u.app.Quit()
}

// Stop ends the UI's background work: it cancels the context of pending
// actions, takes the tray down if Quit did not (the app ended another way,
// e.g. through Fyne's own SIGTERM handler; waiting up to a second). Call
// it from fyne.App.Lifecycle().SetOnStopped.
func (u *UI) Stop() {
	u.cancel()
	if u.systray != nil {
		ended := make(chan struct{})
		go func() {
			defer close(ended)
			u.systray.end()
		}()
		select {
		case <-ended:
		case <-time.After(time.Second):
		}
	}
}

// Post hands a new state to the UI. It may be called from any goroutine
// and never blocks: states posted faster than the UI applies them are
// coalesced, only the newest is applied, and at most ten per second.
// st must not be modified afterwards.
func (u *UI) Post(st *app.State) { u.stateDoor.post(st) }

// apply shows st everywhere: sessions, status lines, banner, settings and
// tray. UI goroutine only; tests call it directly.
func (u *UI) apply(st *app.State) {
	if st == nil {
		return
	}
	u.gotState = true
	u.render(st)
}

// render shows st; New renders its empty initial state with it.
func (u *UI) render(st *app.State) {
	u.state = st
	u.applies++
	u.nowPlaying.setState(st)
	u.sessions.setState(st)
	u.status.setState(st, u.now())
	u.settings.setState(st)
	if u.rules != nil {
		u.rules.setState(st)
	}
	u.updateBanner()
	if u.tray != nil {
		u.tray.update(st)
	}
}

// later runs fn on the UI goroutine after d.
func (u *UI) later(d time.Duration, fn func()) {
	u.bg.Add(1)
	time.AfterFunc(d, func() {
		defer u.bg.Done()
		fyne.Do(fn)
	})
}

// lookup returns the live session with key from the current state.
func (u *UI) lookup(key string) (app.Session, bool) {
	if key == "" {
		return app.Session{}, false
	}
	for _, sn := range u.state.Servers {
		if s, ok := sn.Find(key); ok {
			return s, true
		}
	}
	return app.Session{}, false
}

// showWindow brings the main window up (UI goroutine).
func (u *UI) showWindow() {
	u.win.Show()
	u.win.RequestFocus()
}

// newLabel returns a label with the given importance, as struct literals
// of widgets do not initialise their base widget.
func newLabel(text string, imp widget.Importance) *widget.Label {
	l := widget.NewLabel(text)
	l.Importance = imp
	return l
}
